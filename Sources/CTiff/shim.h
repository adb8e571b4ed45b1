// libtiff (Debian libtiff-dev), the library ImageMagick's TIFF coder calls;
// its pkg-config file gives no -D flags to restate. Swift cannot call C
// variadic functions: TIFFGetFieldDefaulted and TIFFSetField are reached
// through the fixed-type wrappers below.
#include <tiffio.h>

static inline int thumbnail_tiff_get_uint16(TIFF *tiff, uint32_t tag, uint16_t *value) {
    return TIFFGetFieldDefaulted(tiff, tag, value);
}

static inline int thumbnail_tiff_get_uint32(TIFF *tiff, uint32_t tag, uint32_t *value) {
    return TIFFGetFieldDefaulted(tiff, tag, value);
}

/// A count and an array owned by libtiff (ExtraSamples; ICCProfile as bytes).
static inline int thumbnail_tiff_get_array(TIFF *tiff, uint32_t tag, uint32_t *count, const void **values) {
    if (tag == TIFFTAG_EXTRASAMPLES) {
        uint16_t count16 = 0;
        int found = TIFFGetFieldDefaulted(tiff, tag, &count16, values);
        *count = count16;
        return found;
    }
    return TIFFGetField(tiff, tag, count, values);
}

static inline int thumbnail_tiff_set_int(TIFF *tiff, uint32_t tag, int value) {
    return TIFFSetField(tiff, tag, value);
}
