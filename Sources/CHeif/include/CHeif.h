// libheif's declarations (Debian libheif-dev); on Debian it encodes AV1
// through libaom and decodes HEVC through libde265 and AV1 through libdav1d.
// Its code is NOT linked: libheif.so.1 brings libaom, libx265, libdav1d and
// libde265, whose loading costs every run about 5 ms, so HEIC and AVIF
// sources and AVIF output alone load it, with dlopen (heif.c). The functions of
// heif.h that thumbnail calls are defined in heif.c under their own names
// and call into the loaded library; `thumbnail_heif_load` must have
// succeeded before any of them is called.
#include <libheif/heif.h>

/// Loads libheif.so.1 and the functions thumbnail calls, once; NULL, or why not.
const char *thumbnail_heif_load(void);
