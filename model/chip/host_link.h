// The chip's link to host memory (PCIe, an SoC bus): a TLM bridge between the DMA engine and
// whatever memory the host gives it. It costs what the link costs: time = bytes /
// host.dma_bytes_per_ns on a first-come calendar, energy host.e_dma_byte_pj per byte (component
// "host"), charged only for accesses the memory answered OK. Its initiator socket is the chip's
// DMA port (Chip::dma_socket()): bound to the chip's own host memory for in-process firmware, or
// to the memory of an external core or of a user's platform.
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "config/platform_config.h"
#include "sim/energy_ledger.h"
#include "sim/timeline.h"

namespace aimc::chip {

class HostLink : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostLink> tsock;     // from the DMA engine
  tlm_utils::simple_initiator_socket<HostLink> isock;  // to host memory (the chip's DMA port)

  HostLink(sc_core::sc_module_name name, const config::HostConfig& cfg, sim::EnergyLedger& ledger);
  HostLink(const HostLink&) = delete;
  HostLink& operator=(const HostLink&) = delete;

  // Intervals the link's calendar holds now (it forgets those in the past now and then).
  size_t intervals() const { return link_.intervals(); }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(tlm::tlm_generic_payload& gp);

  config::HostConfig cfg_;
  sim::EnergyLedger& ledger_;
  int c_host_;
  sim::Timeline link_;
};

}  // namespace aimc::chip
