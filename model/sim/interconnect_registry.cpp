#include "sim/interconnect_registry.h"

#include <stdexcept>

#include "sim/bus.h"
#include "sim/links.h"
#include "sim/mesh.h"

namespace aimc::sim {

namespace {
template <class T>
std::unique_ptr<Interconnect> make_from_bus_config(const sc_core::sc_module_name& name,
                                                   const config::PlatformConfig& cfg,
                                                   EnergyLedger& ledger, TraceSink& trace) {
  return std::make_unique<T>(name, cfg.bus, ledger, trace);
}
std::unique_ptr<Interconnect> make_mesh(const sc_core::sc_module_name& name, const config::PlatformConfig& cfg,
                                        EnergyLedger& ledger, TraceSink& trace) {
  return std::make_unique<Mesh>(name, cfg.mesh, cfg.grid_rows, cfg.grid_cols, ledger, trace);
}
std::unique_ptr<Interconnect> make_links(const sc_core::sc_module_name& name, const config::PlatformConfig& cfg,
                                         EnergyLedger& ledger, TraceSink& trace) {
  return std::make_unique<Links>(name, cfg.links, cfg.grid_rows, cfg.grid_cols, ledger, trace);
}
}  // namespace

const std::vector<InterconnectKind>& interconnect_kinds() {
  static const std::vector<InterconnectKind> kinds = {
      {"shared_bus", "one bus for every block, arbitrated burst by burst (sim/bus.h)",
       &make_from_bus_config<SharedBus>},
      {"mesh", "2D mesh network on chip: a router per tile, XY routing, contention per link, multicast (sim/mesh.h)",
       &make_mesh},
      {"links", "point-to-point links between neighbouring tiles, relayed store and forward (sim/links.h)",
       &make_links},
  };
  return kinds;
}

std::unique_ptr<Interconnect> make_interconnect(std::string_view kind,
                                                const sc_core::sc_module_name& name,
                                                const config::PlatformConfig& cfg,
                                                EnergyLedger& ledger, TraceSink& trace) {
  std::string known;
  for (const InterconnectKind& k : interconnect_kinds()) {
    if (kind == k.name) return k.make(name, cfg, ledger, trace);
    known += std::string(known.empty() ? "" : ", ") + k.name;
  }
  throw std::invalid_argument("unknown interconnect kind '" + std::string(kind) + "' (kinds: " +
                              known + ")");
}

}  // namespace aimc::sim
