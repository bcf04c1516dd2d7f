// libcsv (Debian: libcsv-dev). It ships no pkg-config file; the header is /usr/include/csv.h.
#include <stddef.h>
#include <csv.h>
