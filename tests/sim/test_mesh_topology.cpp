// The 2D mesh's shape and XY routing (sim/mesh_topology.h), plain C++.
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/mesh_topology.h"

using aimc::sim::MeshTopology;

namespace {
std::vector<std::string> names(const MeshTopology& m, const std::vector<MeshTopology::Hop>& hops) {
  std::vector<std::string> out;
  for (const auto& h : hops) out.push_back(m.link_name(h.link));
  return out;
}
}  // namespace

TEST(MeshTopology, LinksBetweenNeighboursAndThePort) {
  // 3 x 4: 3 rows of 3 east-west pairs and 4 columns of 2 north-south pairs, both ways, + 2 port links.
  const MeshTopology m(3, 4);
  EXPECT_EQ(m.routers(), 13);
  EXPECT_EQ(m.link_count(), 2 * (3 * 3 + 4 * 2) + 2);
  EXPECT_EQ(m.port_col(), 1);  // below the bottom row's middle (of columns 0..3: column 1)
  std::set<std::string> all;
  for (int l = 0; l < m.link_count(); ++l) all.insert(m.link_name(l));
  EXPECT_EQ(all.size(), static_cast<size_t>(m.link_count()));  // no link twice
  EXPECT_TRUE(all.count("tile9->port"));
  EXPECT_TRUE(all.count("port->tile9"));
  EXPECT_FALSE(all.count("tile3->tile4"));  // the end of a row does not wrap to the next
  EXPECT_THROW(MeshTopology(0, 4), std::invalid_argument);
}

TEST(MeshTopology, XyRoutesGoAlongTheRowFirstThenTheColumn) {
  const MeshTopology m(3, 4);
  std::vector<MeshTopology::Hop> hops;
  m.route(0, 11, hops);  // (0,0) -> (2,3)
  EXPECT_EQ(names(m, hops), (std::vector<std::string>{"tile0->tile1", "tile1->tile2", "tile2->tile3",
                                                      "tile3->tile7", "tile7->tile11"}));
  for (size_t i = 0; i < hops.size(); ++i) EXPECT_EQ(hops[i].depth, static_cast<int>(i));
  hops.clear();
  m.route(11, 0, hops);  // back: west first, then north (not the same links reversed)
  EXPECT_EQ(names(m, hops), (std::vector<std::string>{"tile11->tile10", "tile10->tile9", "tile9->tile8",
                                                      "tile8->tile4", "tile4->tile0"}));
  hops.clear();
  m.route(m.port_node(), 3, hops);  // up out of the port, then along row 2, then up column 3
  EXPECT_EQ(names(m, hops), (std::vector<std::string>{"port->tile9", "tile9->tile10", "tile10->tile11",
                                                      "tile11->tile7", "tile7->tile3"}));
  hops.clear();
  m.route(0, m.port_node(), hops);
  EXPECT_EQ(names(m, hops), (std::vector<std::string>{"tile0->tile1", "tile1->tile5", "tile5->tile9",
                                                      "tile9->port"}));
  hops.clear();
  m.route(5, 5, hops);
  EXPECT_TRUE(hops.empty());
  m.route(m.port_node(), m.port_node(), hops);  // the host's DMA into the SRAM: both at the port
  EXPECT_TRUE(hops.empty());
  EXPECT_THROW(m.route(0, 13, hops), std::out_of_range);
}

TEST(MeshTopology, AMulticastTreeTakesEveryLinkOnceAtItsDepth) {
  const MeshTopology m(3, 4);
  // From the port to the whole top row: XY goes along the bottom row (where the port enters)
  // first, then up each column.
  const int dsts[] = {0, 1, 2, 3};
  std::vector<MeshTopology::Hop> tree;
  const int deepest = m.tree(m.port_node(), dsts, 4, tree);
  // port->tile9, row 2 to columns 0 and 2, 3, then up the four columns (2 links each).
  EXPECT_EQ(tree.size(), 1u + 3u + 4u * 2u);
  EXPECT_EQ(deepest, 1 + 2 + 2);  // to tile 3: up, two east, two north
  std::set<int> links;
  for (const auto& h : tree) {
    EXPECT_TRUE(links.insert(h.link).second);
    std::vector<MeshTopology::Hop> path;  // the depth is the link's position on a route through it
    for (int d : dsts) {
      path.clear();
      m.route(m.port_node(), d, path);
      for (const auto& p : path) {
        if (p.link == h.link) {
          EXPECT_EQ(p.depth, h.depth) << m.link_name(h.link);
        }
      }
    }
  }
  // The sum of the four unicasts would cross 4 + 5 + ... links; the tree crosses fewer.
  size_t unicast = 0;
  for (int d : dsts) {
    std::vector<MeshTopology::Hop> path;
    m.route(m.port_node(), d, path);
    unicast += path.size();
  }
  EXPECT_EQ(unicast, 4u + 3u + 4u + 5u);
  EXPECT_LT(tree.size(), unicast);
}
