// The shape of a 2D mesh network on chip (plain C++; sim/mesh.h books transfers on it): a router
// per tile on the tile grid, directed links between neighbours, and one port router below the
// grid's foot for the blocks that are not tiles (the SRAM, the host interface, the sequencer, the
// programming controller), linked to the router of the bottom row's middle column
// (port_col = (cols - 1) / 2), where a shared bus's trunk meets the grid (sim/floorplan.h).
//
// Routing is dimension-ordered (XY): along the row to the destination's column, then along the
// column; from the port, first up into the grid, and to the port, last down out of it. Minimal
// and deadlock-free in a mesh. A multicast takes the union of the XY routes to its destinations:
// a tree in which every link is crossed once, at the same depth (hops from the source) as on
// each route through it.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace aimc::sim {

class MeshTopology {
 public:
  // rows x cols >= 1 x 1; std::invalid_argument otherwise.
  MeshTopology(int rows, int cols);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int port_col() const { return (cols_ - 1) / 2; }
  int routers() const { return rows_ * cols_ + 1; }  // the tiles' and the port's
  int port_node() const { return rows_ * cols_; }    // tile t is node t (row t / cols, column t % cols)
  int link_count() const { return static_cast<int>(links_.size()); }
  // "tile5->tile6", "port->tile9", "tile9->port".
  std::string link_name(int link) const;
  std::string node_name(int node) const;

  // The routers a link leaves and enters.
  std::pair<int, int> link_ends(int link) const { return links_.at(static_cast<size_t>(link)); }

  // A link of a route or tree, and its depth: how many links precede it from the source.
  struct Hop {
    int link;
    int depth;
  };
  // Appends to `out` the links of the XY route from node src to node dst, in order (none when
  // src == dst). std::out_of_range for a node outside [0, routers()).
  void route(int src, int dst, std::vector<Hop>& out) const;
  // The XY multicast tree from src to dsts[0 .. n): every link once. Returns the deepest
  // destination's hop count (0 when every destination is src).
  int tree(int src, const int* dsts, size_t n, std::vector<Hop>& out) const;

 private:
  enum Dir { north, south, east, west };
  struct Node {
    int row, col;
  };
  Node where(int node) const;
  int at(int row, int col) const;  // the node at a position (row == rows: the port)
  int link_from(int node, Dir d) const { return out_[static_cast<size_t>(node) * 4 + d]; }

  int rows_, cols_;
  std::vector<int> out_;                      // node * 4 + dir -> link, or -1
  std::vector<std::pair<int, int>> links_;    // link -> (from node, to node)
};

}  // namespace aimc::sim
