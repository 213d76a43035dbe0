#pragma once
// The HTML report's assets, embedded in the binary at configure time by cmake/html_assets.cmake
// (no file is read at run time, and the page needs no network).
#include <string_view>

namespace meshsim::report::html_assets {

// Chart.js 3.9.1, UMD build, from Debian's libjs-chart.js (/usr/share/javascript/chart.js/,
// MIT licence: /usr/share/doc/libjs-chart.js/copyright).
extern const std::string_view chart_js;
// The page's own script and style: sim/report/html/page.js and page.css.
extern const std::string_view page_js;
extern const std::string_view page_css;

}  // namespace meshsim::report::html_assets
