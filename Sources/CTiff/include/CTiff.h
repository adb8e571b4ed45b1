// libtiff's declarations (Debian libtiff-dev). Its code is NOT linked:
// libtiff.so.6 brings libjbig, libLerc, libdeflate and more, whose loading
// costs every run about 1.5 ms, so a TIFF source alone loads it, with dlopen
// (tiff.c). The functions of tiffio.h that thumbnail calls are defined in
// tiff.c under their own names and call into the loaded library;
// `thumbnail_tiff_load` must have succeeded before any of them is called.
// Swift cannot call C variadic functions: TIFFGetFieldDefaulted,
// TIFFGetField and TIFFSetField are reached through the fixed-type
// wrappers below.
#include <tiffio.h>

/// Loads libtiff.so.6 and the functions thumbnail calls, once; NULL, or why not.
const char *thumbnail_tiff_load(void);

int thumbnail_tiff_get_uint16(TIFF *tiff, uint32_t tag, uint16_t *value);
int thumbnail_tiff_get_uint32(TIFF *tiff, uint32_t tag, uint32_t *value);
/// A count and an array owned by libtiff (ExtraSamples; ICCProfile as bytes).
int thumbnail_tiff_get_array(TIFF *tiff, uint32_t tag, uint32_t *count, const void **values);
int thumbnail_tiff_set_int(TIFF *tiff, uint32_t tag, int value);
