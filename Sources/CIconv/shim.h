// iconv from glibc, for GBK / GB18030 exports.
#include <iconv.h>
#include <errno.h>
static inline int siyu_errno(void) { return errno; }
