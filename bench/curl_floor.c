/* The floor of a source from a URL root in a process of its own: load
 * libcurl as thumbnail does (dlopen, bound lazily and deep), initialise it,
 * GET one URL over a new connection and throw the body away. Nothing else:
 * its time is what any program that fetches with Debian's libcurl and
 * OpenSSL pays once per process.
 *
 * usage: curl_floor URL CA_FILE */
#include <dlfcn.h>
#include <stdio.h>
#include <curl/curl.h>

static size_t discard(char *data, size_t size, size_t count, void *context) {
  (void)data;
  (void)context;
  return size * count;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: curl_floor URL CA_FILE\n");
    return 64;
  }
  void *library = dlopen("libcurl.so.4", RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
  if (library == NULL) {
    fprintf(stderr, "curl_floor: %s\n", dlerror());
    return 69;
  }
  CURLcode (*global_init)(long) = dlsym(library, "curl_global_init");
  CURL *(*easy_init)(void) = dlsym(library, "curl_easy_init");
  CURLcode (*setopt)(CURL *, CURLoption, ...) = dlsym(library, "curl_easy_setopt");
  CURLcode (*perform)(CURL *) = dlsym(library, "curl_easy_perform");
  const char *(*strerror)(CURLcode) = dlsym(library, "curl_easy_strerror");
  global_init(CURL_GLOBAL_ALL);
  CURL *handle = easy_init();
  setopt(handle, CURLOPT_URL, argv[1]);
  setopt(handle, CURLOPT_CAINFO, argv[2]);
  setopt(handle, CURLOPT_WRITEFUNCTION, discard);
  CURLcode result = perform(handle);
  if (result != CURLE_OK) {
    fprintf(stderr, "curl_floor: %s\n", strerror(result));
    return 69;
  }
  return 0;
}
