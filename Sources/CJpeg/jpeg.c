#include "CJpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

struct thumbnail_jpeg {
    struct jpeg_decompress_struct info;
    struct jpeg_error_mgr error;
    jmp_buf failed;
    char *message;  // where the failing call wants libjpeg's message
};

static void fail(j_common_ptr info) {
    struct thumbnail_jpeg *jpeg = (struct thumbnail_jpeg *)info;
    (*info->err->format_message)(info, jpeg->message);
    longjmp(jpeg->failed, 1);
}

// level -1 is a warning (corrupt data): an error, as above. Trace messages (0 and up) are dropped.
static void emit(j_common_ptr info, int level) {
    if (level < 0) fail(info);
}

_Static_assert(JMSG_LENGTH_MAX <= THUMBNAIL_JPEG_MESSAGE, "libjpeg's messages fit");

thumbnail_jpeg *thumbnail_jpeg_open(const uint8_t *data, size_t size, int *width, int *height, char *message) {
    struct thumbnail_jpeg *jpeg = calloc(1, sizeof *jpeg);
    if (jpeg == NULL) {
        snprintf(message, THUMBNAIL_JPEG_MESSAGE, "out of memory");
        return NULL;
    }
    jpeg->info.err = jpeg_std_error(&jpeg->error);
    jpeg->error.error_exit = fail;
    jpeg->error.emit_message = emit;
    jpeg->message = message;
    if (setjmp(jpeg->failed)) {
        jpeg_destroy_decompress(&jpeg->info);
        free(jpeg);
        return NULL;
    }
    jpeg_create_decompress(&jpeg->info);
    jpeg_mem_src(&jpeg->info, data, (unsigned long)size);
    jpeg_save_markers(&jpeg->info, JPEG_APP0 + 2, 0xffff);  // ICC_PROFILE
    jpeg_read_header(&jpeg->info, TRUE);
    *width = (int)jpeg->info.image_width;
    *height = (int)jpeg->info.image_height;
    return jpeg;
}

int thumbnail_jpeg_channels(const thumbnail_jpeg *jpeg) {
    switch (jpeg->info.jpeg_color_space) {
    case JCS_GRAYSCALE: return 1;
    case JCS_YCbCr: case JCS_RGB: return 3;
    default: return 0;
    }
}

int thumbnail_jpeg_start(thumbnail_jpeg *jpeg, int eighths, int *width, int *height, char *message) {
    jpeg->message = message;
    if (setjmp(jpeg->failed)) return -1;
    jpeg->info.scale_num = (unsigned)eighths;
    jpeg->info.scale_denom = 8;
    jpeg->info.out_color_space = jpeg->info.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    jpeg->info.do_block_smoothing = FALSE;
    jpeg_start_decompress(&jpeg->info);
    *width = (int)jpeg->info.output_width;
    *height = (int)jpeg->info.output_height;
    return 0;
}

int thumbnail_jpeg_read(thumbnail_jpeg *jpeg, uint8_t *rows, size_t stride, int count, char *message) {
    jpeg->message = message;
    if (setjmp(jpeg->failed)) return -1;
    JSAMPROW pointers[16];
    int wanted = count < 16 ? count : 16;
    for (int row = 0; row < wanted; row++) pointers[row] = rows + (size_t)row * stride;
    return (int)jpeg_read_scanlines(&jpeg->info, pointers, (JDIMENSION)wanted);
}

uint8_t *thumbnail_jpeg_icc_profile(thumbnail_jpeg *jpeg, unsigned *length) {
    char ignored[THUMBNAIL_JPEG_MESSAGE];
    jpeg->message = ignored;
    *length = 0;
    // A profile in pieces that do not fit together is left out, as if there were none.
    if (setjmp(jpeg->failed)) return NULL;
    JOCTET *profile = NULL;
    return jpeg_read_icc_profile(&jpeg->info, &profile, length) ? profile : NULL;
}

void thumbnail_jpeg_close(thumbnail_jpeg *jpeg) {
    jpeg_destroy_decompress(&jpeg->info);
    free(jpeg);
}
