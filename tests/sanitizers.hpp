#pragma once
// MESHSIM_UNDER_ASAN is defined when the tests are built with AddressSanitizer (gcc defines
// __SANITIZE_ADDRESS__, clang answers __has_feature): tests that measure memory or run under a
// memory limit need to know, since ASan's shadow memory multiplies the resident set.
#if defined(__SANITIZE_ADDRESS__)
#define MESHSIM_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MESHSIM_UNDER_ASAN 1
#endif
#endif
