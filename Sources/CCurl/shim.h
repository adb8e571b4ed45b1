// libcurl's types come from its header (Debian libcurl4-openssl-dev; its
// pkg-config file gives no -D flags to restate). Its code is NOT linked:
// libcurl.so.4 brings 27 more libraries whose symbol lookups double the
// start-up time of every run, so `--base` and the s3:// and https:// roots
// alone load it, with dlopen.
// Swift cannot call C variadic functions: curl_easy_setopt and
// curl_easy_getinfo are reached through the fixed-type wrappers below.
#include <dlfcn.h>
#include <curl/curl.h>

/// The libcurl functions thumbnail calls.
struct thumbnail_curl {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *handle, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *handle);
    CURLcode (*easy_getinfo)(CURL *handle, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode code);
    void (*easy_cleanup)(CURL *handle);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
    void (*slist_free_all)(struct curl_slist *list);
};

/// Loads libcurl.so.4 and runs curl_global_init; NULL, or why not. Not
/// thread-safe: call once, before any other thread uses libcurl. Bound
/// lazily: of the functions of its 30-odd libraries only those called are
/// looked up, which roughly halves the CPU the load costs a process. Bound
/// deep: their symbols are looked up among their own libraries first, not
/// through the 40 ImageMagick brings (a millisecond less a process).
static inline const char *thumbnail_curl_load(struct thumbnail_curl *curl) {
    void *library = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
    if (library == NULL) return dlerror();
#define THUMBNAIL_CURL_FIND(field, name) \
    if ((*(void **)&curl->field = dlsym(library, name)) == NULL) return dlerror();
    THUMBNAIL_CURL_FIND(global_init, "curl_global_init")
    THUMBNAIL_CURL_FIND(easy_init, "curl_easy_init")
    THUMBNAIL_CURL_FIND(easy_setopt, "curl_easy_setopt")
    THUMBNAIL_CURL_FIND(easy_perform, "curl_easy_perform")
    THUMBNAIL_CURL_FIND(easy_getinfo, "curl_easy_getinfo")
    THUMBNAIL_CURL_FIND(easy_strerror, "curl_easy_strerror")
    THUMBNAIL_CURL_FIND(easy_cleanup, "curl_easy_cleanup")
    THUMBNAIL_CURL_FIND(slist_append, "curl_slist_append")
    THUMBNAIL_CURL_FIND(slist_free_all, "curl_slist_free_all")
#undef THUMBNAIL_CURL_FIND
    return curl->global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? NULL : "curl_global_init failed";
}

typedef size_t (*thumbnail_curl_receiver)(char *data, size_t size, size_t count, void *context);

static inline CURLcode thumbnail_curl_set_long(
    const struct thumbnail_curl *curl, CURL *handle, CURLoption option, long value) {
    return curl->easy_setopt(handle, option, value);
}

static inline CURLcode thumbnail_curl_set_string(
    const struct thumbnail_curl *curl, CURL *handle, CURLoption option, const char *value) {
    return curl->easy_setopt(handle, option, value);
}

static inline CURLcode thumbnail_curl_set_pointer(
    const struct thumbnail_curl *curl, CURL *handle, CURLoption option, void *value) {
    return curl->easy_setopt(handle, option, value);
}

static inline CURLcode thumbnail_curl_set_receiver(
    const struct thumbnail_curl *curl, CURL *handle, CURLoption option, thumbnail_curl_receiver value) {
    return curl->easy_setopt(handle, option, value);
}

static inline CURLcode thumbnail_curl_set_list(
    const struct thumbnail_curl *curl, CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl->easy_setopt(handle, option, value);
}

static inline CURLcode thumbnail_curl_get_string(
    const struct thumbnail_curl *curl, CURL *handle, CURLINFO info, const char **value) {
    return curl->easy_getinfo(handle, info, value);
}

static inline CURLcode thumbnail_curl_get_long(
    const struct thumbnail_curl *curl, CURL *handle, CURLINFO info, long *value) {
    return curl->easy_getinfo(handle, info, value);
}
