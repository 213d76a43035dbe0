#include "sim/execution/model_rotation.hpp"

#include <algorithm>

namespace meshsim::execution {

std::string rotation_link_rep(const network::Topology& topology,
                              std::vector<std::pair<std::int32_t, std::int32_t>> pairs,
                              const std::vector<std::int32_t>& image, int order,
                              const std::vector<std::int32_t>& pre,
                              std::vector<std::int32_t>& rep) {
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  const auto& links = topology.links();
  const auto n = links.size();
  std::vector<std::int32_t> next(n, -1), prev(n, -1);  // the rotation on links, and back
  std::vector<std::int32_t> domain;                    // links with an image
  std::vector<std::int32_t> from, to;
  auto route_of = [&](std::int32_t a, std::int32_t b, std::vector<std::int32_t>& out) {
    topology.route(a, b, out);
    if (!pre.empty()) {
      for (auto& l : out)
        l = pre[static_cast<std::size_t>(l)];
    }
  };
  auto image_of = [&](std::int32_t chip) {
    return chip >= 0 && static_cast<std::size_t>(chip) < image.size()
               ? image[static_cast<std::size_t>(chip)]
               : -1;
  };
  for (const auto& [src, dst] : pairs) {
    std::int32_t a = src, b = dst;
    route_of(a, b, from);
    const auto first = from;
    for (int j = 1; j <= order; ++j) {
      a = image_of(a);
      b = image_of(b);
      if (a < 0 || b < 0)
        return "the rotation carries a chip out of the mesh";
      if (j == order) {
        if (a != src || b != dst)
          return "the rotation is not of order " + std::to_string(order);
        to = first;
      } else {
        route_of(a, b, to);
      }
      if (to.size() != from.size()) {
        return "chips " + std::to_string(src) + " -> " + std::to_string(dst) + " route over " +
               std::to_string(from.size()) + " links, their rotation over " +
               std::to_string(to.size());
      }
      for (std::size_t h = 0; h < from.size(); ++h) {
        const auto x = static_cast<std::size_t>(from[h]);
        const auto y = to[h];
        const auto& lx = links[x];
        const auto& ly = links[static_cast<std::size_t>(y)];
        if (lx.bandwidth_bytes_per_s != ly.bandwidth_bytes_per_s ||
            lx.latency_ps != ly.latency_ps || lx.link_class != ly.link_class)
          return "the rotation carries a link onto an unlike one";
        if (next[x] < 0 && prev[static_cast<std::size_t>(y)] < 0) {
          next[x] = y;
          prev[static_cast<std::size_t>(y)] = static_cast<std::int32_t>(x);
          domain.push_back(static_cast<std::int32_t>(x));
        } else if (next[x] != y) {
          return "the rotation does not carry the routes onto routes one link to one link";
        }
      }
      std::swap(from, to);
    }
  }
  // Each orbit: exactly `order` links, closed; its least link stands for all of them.
  std::vector<std::int32_t> least(n, -1);
  for (const auto x : domain) {
    if (least[static_cast<std::size_t>(x)] >= 0)
      continue;
    std::int32_t lo = x, y = x;
    int size = 0;
    do {
      y = next[static_cast<std::size_t>(y)];
      if (y < 0)
        return "the rotation leaves a link's orbit open";
      lo = std::min(lo, y);
      ++size;
    } while (y != x && size <= order);
    if (size != order) {
      return "a link is used by " + std::to_string(order / std::max(1, size)) +
             " positions of the model ring at once (a shared link)";
    }
    do {
      least[static_cast<std::size_t>(y)] = lo;
      y = next[static_cast<std::size_t>(y)];
    } while (y != x);
  }
  rep.resize(n);
  for (std::size_t l = 0; l < n; ++l) {
    const auto base = pre.empty() ? static_cast<std::int32_t>(l) : pre[l];
    const auto lo = least[static_cast<std::size_t>(base)];
    rep[l] = lo >= 0 ? lo : base;
  }
  return {};
}

}  // namespace meshsim::execution
