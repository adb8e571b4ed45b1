#include "CTiff.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

// The functions of libtiff that thumbnail calls, as the library has them.
#define THUMBNAIL_TIFF_FUNCTIONS(X) \
    X(TIFFClientOpenExt) X(TIFFClose) X(TIFFIsTiled) X(TIFFOpenOptionsAlloc) X(TIFFOpenOptionsFree) \
    X(TIFFOpenOptionsSetErrorHandlerExtR) X(TIFFOpenOptionsSetMaxSingleMemAlloc) \
    X(TIFFOpenOptionsSetWarningHandlerExtR) X(TIFFReadScanline) X(TIFFReadTile) X(TIFFScanlineSize) \
    X(TIFFTileSize) X(TIFFGetFieldDefaulted) X(TIFFGetField) X(TIFFSetField)

#define THUMBNAIL_TIFF_POINTER(name) static __typeof__(name) *real_##name;
THUMBNAIL_TIFF_FUNCTIONS(THUMBNAIL_TIFF_POINTER)

static const char *failure = "libtiff.so.6 not loaded";

static void load(void) {
    void *library = dlopen("libtiff.so.6", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        failure = strdup(dlerror());
        return;
    }
#define THUMBNAIL_TIFF_FIND(name) \
    if ((*(void **)&real_##name = dlsym(library, #name)) == NULL) { \
        failure = strdup(dlerror()); \
        return; \
    }
    THUMBNAIL_TIFF_FUNCTIONS(THUMBNAIL_TIFF_FIND)
    failure = NULL;
}

const char *thumbnail_tiff_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return failure;
}

int thumbnail_tiff_get_uint16(TIFF *tiff, uint32_t tag, uint16_t *value) {
    return real_TIFFGetFieldDefaulted(tiff, tag, value);
}

int thumbnail_tiff_get_uint32(TIFF *tiff, uint32_t tag, uint32_t *value) {
    return real_TIFFGetFieldDefaulted(tiff, tag, value);
}

int thumbnail_tiff_get_array(TIFF *tiff, uint32_t tag, uint32_t *count, const void **values) {
    if (tag == TIFFTAG_EXTRASAMPLES) {
        uint16_t count16 = 0;
        int found = real_TIFFGetFieldDefaulted(tiff, tag, &count16, values);
        *count = count16;
        return found;
    }
    return real_TIFFGetField(tiff, tag, count, values);
}

int thumbnail_tiff_set_int(TIFF *tiff, uint32_t tag, int value) { return real_TIFFSetField(tiff, tag, value); }

// Hidden: ImageMagick's own TIFF coder, which links libtiff, must never
// find these in place of the library's.
#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN TIFF *TIFFClientOpenExt(
    const char *name, const char *mode, thandle_t handle, TIFFReadWriteProc read, TIFFReadWriteProc write,
    TIFFSeekProc seek, TIFFCloseProc close, TIFFSizeProc size, TIFFMapFileProc map, TIFFUnmapFileProc unmap,
    TIFFOpenOptions *options) {
    return real_TIFFClientOpenExt(name, mode, handle, read, write, seek, close, size, map, unmap, options);
}
HIDDEN void TIFFClose(TIFF *tiff) { real_TIFFClose(tiff); }
HIDDEN int TIFFIsTiled(TIFF *tiff) { return real_TIFFIsTiled(tiff); }
HIDDEN TIFFOpenOptions *TIFFOpenOptionsAlloc(void) { return real_TIFFOpenOptionsAlloc(); }
HIDDEN void TIFFOpenOptionsFree(TIFFOpenOptions *options) { real_TIFFOpenOptionsFree(options); }
HIDDEN void TIFFOpenOptionsSetErrorHandlerExtR(TIFFOpenOptions *options, TIFFErrorHandlerExtR handler, void *data) {
    real_TIFFOpenOptionsSetErrorHandlerExtR(options, handler, data);
}
HIDDEN void TIFFOpenOptionsSetMaxSingleMemAlloc(TIFFOpenOptions *options, tmsize_t size) {
    real_TIFFOpenOptionsSetMaxSingleMemAlloc(options, size);
}
HIDDEN void TIFFOpenOptionsSetWarningHandlerExtR(TIFFOpenOptions *options, TIFFErrorHandlerExtR handler, void *data) {
    real_TIFFOpenOptionsSetWarningHandlerExtR(options, handler, data);
}
HIDDEN int TIFFReadScanline(TIFF *tiff, void *buffer, uint32_t row, uint16_t sample) {
    return real_TIFFReadScanline(tiff, buffer, row, sample);
}
HIDDEN tmsize_t TIFFReadTile(TIFF *tiff, void *buffer, uint32_t x, uint32_t y, uint32_t z, uint16_t sample) {
    return real_TIFFReadTile(tiff, buffer, x, y, z, sample);
}
HIDDEN tmsize_t TIFFScanlineSize(TIFF *tiff) { return real_TIFFScanlineSize(tiff); }
HIDDEN tmsize_t TIFFTileSize(TIFF *tiff) { return real_TIFFTileSize(tiff); }
