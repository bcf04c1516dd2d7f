// libxml2 (Debian: libxml2-dev; pkg-config libxml-2.0): the SAX2 push parser reads .xlsx parts.
#include <libxml/xmlversion.h>
// Debian's libxml2 is built with ICU and its encoding.h then includes the system's ICU headers,
// which clash with the ICU that Foundation bundles. siyu never touches the encoding handler
// struct those headers describe, only libxml2's own UTF-8/UTF-16 decoding: leave ICU out.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/SAX2.h>
