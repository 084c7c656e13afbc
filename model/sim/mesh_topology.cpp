#include "sim/mesh_topology.h"

#include <algorithm>
#include <stdexcept>

namespace aimc::sim {

MeshTopology::MeshTopology(int rows, int cols) : rows_(rows), cols_(cols) {
  if (rows < 1 || cols < 1) throw std::invalid_argument("mesh: the tile grid needs at least one row and column");
  out_.assign(static_cast<size_t>(routers()) * 4, -1);
  auto connect = [&](int a, Dir d, int b) {
    out_[static_cast<size_t>(a) * 4 + d] = static_cast<int>(links_.size());
    links_.emplace_back(a, b);
  };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int n = at(r, c);
      if (r > 0) connect(n, north, at(r - 1, c));
      if (r + 1 < rows) connect(n, south, at(r + 1, c));
      if (c + 1 < cols) connect(n, east, at(r, c + 1));
      if (c > 0) connect(n, west, at(r, c - 1));
    }
  }
  // The port sits below the bottom row's middle column.
  connect(at(rows - 1, port_col()), south, port_node());
  connect(port_node(), north, at(rows - 1, port_col()));
}

MeshTopology::Node MeshTopology::where(int node) const {
  if (node < 0 || node >= routers()) {
    throw std::out_of_range("mesh: node " + std::to_string(node) + " outside the " + std::to_string(rows_) + " x " +
                            std::to_string(cols_) + " grid and its port");
  }
  if (node == port_node()) return {rows_, port_col()};
  return {node / cols_, node % cols_};
}

int MeshTopology::at(int row, int col) const { return row == rows_ ? port_node() : row * cols_ + col; }

std::string MeshTopology::node_name(int node) const {
  return node == port_node() ? "port" : "tile" + std::to_string(node);
}

std::string MeshTopology::link_name(int link) const {
  const auto& [a, b] = links_.at(static_cast<size_t>(link));
  return node_name(a) + "->" + node_name(b);
}

void MeshTopology::route(int src, int dst, std::vector<Hop>& out) const {
  Node at_ = where(src);
  const Node to = where(dst);
  if (src == dst) return;
  int n = src, depth = 0;
  auto step = [&](Dir d) {
    const int l = link_from(n, d);
    out.push_back({l, depth++});
    n = links_[static_cast<size_t>(l)].second;
    at_ = where(n);
  };
  if (n == port_node() && n != dst) step(north);  // out of the port into the grid
  const int col = to.row == rows_ ? port_col() : to.col;
  while (at_.col < col) step(east);
  while (at_.col > col) step(west);
  const int row = to.row == rows_ ? rows_ - 1 : to.row;
  while (at_.row < row) step(south);
  while (at_.row > row) step(north);
  if (dst == port_node() && n != dst) step(south);  // down out of the grid into the port
}

int MeshTopology::tree(int src, const int* dsts, size_t n, std::vector<Hop>& out) const {
  const size_t first = out.size();
  int deepest = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t before = out.size();
    route(src, dsts[i], out);
    deepest = std::max(deepest, static_cast<int>(out.size() - before));
  }
  // Every link once: a link's depth is the same on every minimal route from src through it.
  std::sort(out.begin() + static_cast<long>(first), out.end(),
            [](const Hop& a, const Hop& b) { return a.link < b.link; });
  out.erase(std::unique(out.begin() + static_cast<long>(first), out.end(),
                        [](const Hop& a, const Hop& b) { return a.link == b.link; }),
            out.end());
  return deepest;
}

}  // namespace aimc::sim
