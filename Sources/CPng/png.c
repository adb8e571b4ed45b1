#include "CPng.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>

struct thumbnail_png {
    png_structp png;
    png_infop info;
    thumbnail_png_source source;
    void *user;
    int interlaced;
    /// Rows still to come, over every pass.
    uint64_t rows_left;
    int out_of_memory;
    char message[160];
};

// The ancillary chunks that change nothing thumbnail reads: gamma and
// chromaticities are not applied (as ImageMagick's coder does not), and
// libpng, seeing sRGB or gAMA, would check an iCCP profile against them and
// could drop it; text and the rest are stripped on output.
static const png_byte skipped[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0oFFs\0pCAL\0pHYs\0sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt\0iTXt";

static void on_error(png_structp png, png_const_charp message) {
    thumbnail_png *self = png_get_error_ptr(png);
    snprintf(self->message, sizeof self->message, "%s", message);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static png_voidp allocate(png_structp png, png_alloc_size_t size) {
    void *memory = malloc(size);
    if (memory == NULL) ((thumbnail_png *)png_get_mem_ptr(png))->out_of_memory = 1;
    return memory;
}

static void release(png_structp png, png_voidp memory) {
    (void)png;
    free(memory);
}

// Called by libpng alone, under the setjmp of the function that called it.
static void read_source(png_structp png, png_bytep buffer, size_t count) {
    thumbnail_png *self = png_get_io_ptr(png);
    if (self->source(self->user, buffer, count) != 0) png_error(png, "file truncated");
}

thumbnail_png *thumbnail_png_create(thumbnail_png_source source, void *user, size_t chunk_limit) {
    thumbnail_png *self = calloc(1, sizeof *self);
    if (self == NULL) return NULL;
    self->source = source;
    self->user = user;
    self->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, self, on_error, on_warning, self, allocate, release);
    if (self->png != NULL) self->info = png_create_info_struct(self->png);
    if (self->info == NULL) {
        thumbnail_png_destroy(self);
        return NULL;
    }
    png_structp png = self->png;
    if (setjmp(png_jmpbuf(png))) {
        thumbnail_png_destroy(self);
        return NULL;
    }
    png_set_read_fn(png, self, read_source);
    // A wrong checksum only ever guards bytes that decode all the same; as vipsthumbnail has libpng do.
    png_set_crc_action(png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
    png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
    png_set_option(png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    // An inconsistent ancillary chunk is dropped, not an error.
    png_set_benign_errors(png, 1);
    png_set_user_limits(png, 65535, 65535);
    png_set_chunk_malloc_max(png, chunk_limit);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof skipped / 5));
    return self;
}

void thumbnail_png_destroy(thumbnail_png *self) {
    if (self->png != NULL) png_destroy_read_struct(&self->png, self->info != NULL ? &self->info : NULL, NULL);
    free(self);
}

int thumbnail_png_read_info(thumbnail_png *self, thumbnail_png_info *result) {
    png_structp png = self->png;
    png_infop info = self->info;
    if (setjmp(png_jmpbuf(png))) return -1;
    png_read_info(png, info);
    int type = png_get_color_type(png, info), bits = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && bits < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bits == 16) png_set_swap(png);
#endif
    // No png_set_interlace_handling: each pass's rows come as they are, packed.
    png_read_update_info(png, info);
    uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    self->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    self->rows_left = 0;
    for (int pass = 0; pass < 7; pass++) {
        if (!self->interlaced) {
            self->rows_left = height;
            break;
        }
        if (PNG_PASS_COLS(width, pass) > 0) self->rows_left += PNG_PASS_ROWS(height, pass);
    }
    result->width = width;
    result->height = height;
    result->channels = png_get_channels(png, info);
    result->bits_per_sample = png_get_bit_depth(png, info);
    result->interlaced = self->interlaced;
    result->row_bytes = png_get_rowbytes(png, info);
    png_charp name = NULL;
    int compression = 0;
    png_bytep profile = NULL;
    png_uint_32 length = 0;
    if (png_get_iCCP(png, info, &name, &compression, &profile, &length) == 0) profile = NULL;
    result->icc_profile = profile;
    result->icc_profile_length = profile != NULL ? length : 0;
    return 0;
}

int thumbnail_png_read_row(thumbnail_png *self, unsigned char *row, uint32_t *y, int *pass) {
    if (self->rows_left == 0) return 0;
    png_structp png = self->png;
    if (setjmp(png_jmpbuf(png))) return -1;
    // Which row comes next: libpng counts the rows of the current pass.
    int current = png_get_current_pass_number(png);
    png_uint_32 number = png_get_current_row_number(png);
    png_read_row(png, row, NULL);
    self->rows_left--;
    *pass = self->interlaced ? current : 6;
    *y = self->interlaced ? PNG_ROW_FROM_PASS_ROW(number, current) : number;
    return 1;
}

const char *thumbnail_png_error(const thumbnail_png *self) { return self->message; }

int thumbnail_png_out_of_memory(const thumbnail_png *self) { return self->out_of_memory; }
