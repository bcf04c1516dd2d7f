// libxlsxwriter (Debian: libxlsxwriter-dev): report.xlsx, one sheet per output.
#include <xlsxwriter.h>
