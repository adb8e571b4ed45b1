#include "CHeif.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

// The functions of libheif that thumbnail calls, as the library has them.
#define THUMBNAIL_HEIF_FUNCTIONS(X) \
    X(heif_context_alloc) X(heif_context_free) X(heif_context_get_encoder_for_format) \
    X(heif_encoder_release) X(heif_encoder_set_lossy_quality) X(heif_encoder_set_parameter_integer) \
    X(heif_encoder_set_parameter_string) X(heif_encoding_options_alloc) X(heif_encoding_options_free) \
    X(heif_context_encode_image) X(heif_context_write) X(heif_image_create) X(heif_image_add_plane) \
    X(heif_image_get_plane) X(heif_image_release) \
    X(heif_context_read_from_memory_without_copy) X(heif_context_set_maximum_image_size_limit) \
    X(heif_context_set_max_decoding_threads) \
    X(heif_context_get_primary_image_handle) X(heif_image_handle_release) X(heif_image_handle_get_width) \
    X(heif_image_handle_get_height) X(heif_image_handle_has_alpha_channel) \
    X(heif_image_handle_get_number_of_thumbnails) X(heif_image_handle_get_list_of_thumbnail_IDs) \
    X(heif_image_handle_get_thumbnail) X(heif_image_handle_get_color_profile_type) \
    X(heif_image_handle_get_raw_color_profile_size) X(heif_image_handle_get_raw_color_profile) \
    X(heif_decoding_options_alloc) X(heif_decoding_options_free) X(heif_decode_image) X(heif_image_get_width) \
    X(heif_image_get_height) X(heif_image_get_bits_per_pixel_range) X(heif_image_get_plane_readonly) \
    X(heif_image_get_colorspace) X(heif_image_get_chroma_format) X(heif_image_has_channel) \
    X(heif_image_is_premultiplied_alpha)

#define THUMBNAIL_HEIF_POINTER(name) static __typeof__(name) *real_##name;
THUMBNAIL_HEIF_FUNCTIONS(THUMBNAIL_HEIF_POINTER)

static const char *failure = "libheif.so.1 not loaded";

static void load(void) {
    void *library = dlopen("libheif.so.1", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        failure = strdup(dlerror());
        return;
    }
#define THUMBNAIL_HEIF_FIND(name) \
    if ((*(void **)&real_##name = dlsym(library, #name)) == NULL) { \
        failure = strdup(dlerror()); \
        return; \
    }
    THUMBNAIL_HEIF_FUNCTIONS(THUMBNAIL_HEIF_FIND)
    failure = NULL;
}

const char *thumbnail_heif_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return failure;
}

// Hidden: ImageMagick's own HEIC coder, which links libheif, must never
// find these in place of the library's.
#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN struct heif_context *heif_context_alloc(void) { return real_heif_context_alloc(); }
HIDDEN void heif_context_free(struct heif_context *context) { real_heif_context_free(context); }
HIDDEN struct heif_error heif_context_get_encoder_for_format(
    struct heif_context *context, enum heif_compression_format format, struct heif_encoder **encoder) {
    return real_heif_context_get_encoder_for_format(context, format, encoder);
}
HIDDEN void heif_encoder_release(struct heif_encoder *encoder) { real_heif_encoder_release(encoder); }
HIDDEN struct heif_error heif_encoder_set_lossy_quality(struct heif_encoder *encoder, int quality) {
    return real_heif_encoder_set_lossy_quality(encoder, quality);
}
HIDDEN struct heif_error heif_encoder_set_parameter_integer(struct heif_encoder *encoder, const char *name, int value) {
    return real_heif_encoder_set_parameter_integer(encoder, name, value);
}
HIDDEN struct heif_error heif_encoder_set_parameter_string(
    struct heif_encoder *encoder, const char *name, const char *value) {
    return real_heif_encoder_set_parameter_string(encoder, name, value);
}
HIDDEN struct heif_encoding_options *heif_encoding_options_alloc(void) { return real_heif_encoding_options_alloc(); }
HIDDEN void heif_encoding_options_free(struct heif_encoding_options *options) {
    real_heif_encoding_options_free(options);
}
HIDDEN struct heif_error heif_context_encode_image(
    struct heif_context *context, const struct heif_image *image, struct heif_encoder *encoder,
    const struct heif_encoding_options *options, struct heif_image_handle **handle) {
    return real_heif_context_encode_image(context, image, encoder, options, handle);
}
HIDDEN struct heif_error heif_context_write(struct heif_context *context, struct heif_writer *writer, void *userdata) {
    return real_heif_context_write(context, writer, userdata);
}
HIDDEN struct heif_error heif_image_create(
    int width, int height, enum heif_colorspace colorspace, enum heif_chroma chroma, struct heif_image **image) {
    return real_heif_image_create(width, height, colorspace, chroma, image);
}
HIDDEN struct heif_error heif_image_add_plane(
    struct heif_image *image, enum heif_channel channel, int width, int height, int bit_depth) {
    return real_heif_image_add_plane(image, channel, width, height, bit_depth);
}
HIDDEN uint8_t *heif_image_get_plane(struct heif_image *image, enum heif_channel channel, int *stride) {
    return real_heif_image_get_plane(image, channel, stride);
}
HIDDEN void heif_image_release(const struct heif_image *image) { real_heif_image_release(image); }
HIDDEN struct heif_error heif_context_read_from_memory_without_copy(
    struct heif_context *context, const void *memory, size_t size, const struct heif_reading_options *options) {
    return real_heif_context_read_from_memory_without_copy(context, memory, size, options);
}
HIDDEN void heif_context_set_maximum_image_size_limit(struct heif_context *context, int maximum_width) {
    real_heif_context_set_maximum_image_size_limit(context, maximum_width);
}
HIDDEN void heif_context_set_max_decoding_threads(struct heif_context *context, int max_threads) {
    real_heif_context_set_max_decoding_threads(context, max_threads);
}
HIDDEN struct heif_error heif_context_get_primary_image_handle(
    struct heif_context *context, struct heif_image_handle **handle) {
    return real_heif_context_get_primary_image_handle(context, handle);
}
HIDDEN void heif_image_handle_release(const struct heif_image_handle *handle) { real_heif_image_handle_release(handle); }
HIDDEN int heif_image_handle_get_width(const struct heif_image_handle *handle) {
    return real_heif_image_handle_get_width(handle);
}
HIDDEN int heif_image_handle_get_height(const struct heif_image_handle *handle) {
    return real_heif_image_handle_get_height(handle);
}
HIDDEN int heif_image_handle_has_alpha_channel(const struct heif_image_handle *handle) {
    return real_heif_image_handle_has_alpha_channel(handle);
}
HIDDEN int heif_image_handle_get_number_of_thumbnails(const struct heif_image_handle *handle) {
    return real_heif_image_handle_get_number_of_thumbnails(handle);
}
HIDDEN int heif_image_handle_get_list_of_thumbnail_IDs(
    const struct heif_image_handle *handle, heif_item_id *ids, int count) {
    return real_heif_image_handle_get_list_of_thumbnail_IDs(handle, ids, count);
}
HIDDEN struct heif_error heif_image_handle_get_thumbnail(
    const struct heif_image_handle *handle, heif_item_id id, struct heif_image_handle **thumbnail) {
    return real_heif_image_handle_get_thumbnail(handle, id, thumbnail);
}
HIDDEN enum heif_color_profile_type heif_image_handle_get_color_profile_type(const struct heif_image_handle *handle) {
    return real_heif_image_handle_get_color_profile_type(handle);
}
HIDDEN size_t heif_image_handle_get_raw_color_profile_size(const struct heif_image_handle *handle) {
    return real_heif_image_handle_get_raw_color_profile_size(handle);
}
HIDDEN struct heif_error heif_image_handle_get_raw_color_profile(const struct heif_image_handle *handle, void *data) {
    return real_heif_image_handle_get_raw_color_profile(handle, data);
}
HIDDEN struct heif_decoding_options *heif_decoding_options_alloc(void) { return real_heif_decoding_options_alloc(); }
HIDDEN void heif_decoding_options_free(struct heif_decoding_options *options) {
    real_heif_decoding_options_free(options);
}
HIDDEN struct heif_error heif_decode_image(
    const struct heif_image_handle *handle, struct heif_image **image, enum heif_colorspace colorspace,
    enum heif_chroma chroma, const struct heif_decoding_options *options) {
    return real_heif_decode_image(handle, image, colorspace, chroma, options);
}
HIDDEN int heif_image_get_width(const struct heif_image *image, enum heif_channel channel) {
    return real_heif_image_get_width(image, channel);
}
HIDDEN int heif_image_get_height(const struct heif_image *image, enum heif_channel channel) {
    return real_heif_image_get_height(image, channel);
}
HIDDEN int heif_image_get_bits_per_pixel_range(const struct heif_image *image, enum heif_channel channel) {
    return real_heif_image_get_bits_per_pixel_range(image, channel);
}
HIDDEN const uint8_t *heif_image_get_plane_readonly(const struct heif_image *image, enum heif_channel channel, int *stride) {
    return real_heif_image_get_plane_readonly(image, channel, stride);
}
HIDDEN enum heif_colorspace heif_image_get_colorspace(const struct heif_image *image) {
    return real_heif_image_get_colorspace(image);
}
HIDDEN enum heif_chroma heif_image_get_chroma_format(const struct heif_image *image) {
    return real_heif_image_get_chroma_format(image);
}
HIDDEN int heif_image_has_channel(const struct heif_image *image, enum heif_channel channel) {
    return real_heif_image_has_channel(image, channel);
}
HIDDEN int heif_image_is_premultiplied_alpha(struct heif_image *image) {
    return real_heif_image_is_premultiplied_alpha(image);
}
