// The generic device fuzzer (in the manner of QEMU's generic-fuzz): each input is a sequence of
// operations a firmware could issue against ONE chip, elaborated once per process (SystemC allows
// one elaboration): register reads and writes (mostly at the register table's offsets, some
// anywhere, some with odd sizes, byte enables or bursts), host memory filled with fuzzed bytes,
// single DMA transfers and descriptor chains, command-queue rings and doorbells, weight blocks
// programmed into tiles, layer programs written to the sequencer's memory and started,
// programming commands, power states, resets, die temperatures, waits for interrupts and steps of
// simulated time. docs/fuzzing.md describes the encoding.
//
// One input runs in the firmware CPU's thread (FirmwareHost, through its HAL, as firmware does);
// then the harness drains what the input left running (simulated time, bounded), writes
// CTRL.FULL_RESET, puts back what the register reset does not cover (the tiles' cells, the die
// temperature, the memories' contents) and checks that every readable register reads its reset
// value, so that no state leaks into the next input. A finding aborts with a message: an exception
// escaping sc_start or a SystemC process, one caught inside an engine (run_guarded: input the
// checks let through), a SystemC error or warning, the simulation stopping by itself, an engine
// still busy after the drain, or a register that does not read its reset value after FULL_RESET.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>

#include <sanitizer/allocator_interface.h>

#include "aimc_hal.h"
#include "aimc_hw.h"
#include "aimc_image.h"
#include "aimc_regs.h"
#include "chip/chip.h"
#include "chip/register_table.h"
#include "config/platform_config.h"
#include "sim/accounting.h"
#include "sim/energy_ledger.h"
#include "sim/trace.h"
#include "sim/payload.h"

namespace {

using namespace aimc;

// ---- Bounds on one input's work (so that one input stays far below -timeout=10) ------------
constexpr int kMaxOps = 64;                          // operations per input
constexpr uint64_t kHostBytes = 64 * 1024;           // host memory (every u16 offset is inside)
constexpr uint32_t kMaxIter = 255;                   // PROG_MAX_ITER writes are clamped to this
constexpr double kStepUnitNs = 50.0;                 // STEP waits u16 * this (<= 3.3 ms)
constexpr double kIrqUnitNs = 100.0;                 // WAIT_IRQ waits up to u16 * this (<= 6.6 ms)
constexpr double kOpWaitNs = 200e6;                  // an op waiting for its DMA or PROGRAM: <= 0.2 s
constexpr double kDrainNs = 20e9;                    // the drain after an input: <= 20 s simulated
constexpr double kSliceNs = 100e9;                   // sc_start of one input: <= 100 s simulated
constexpr uint32_t kProgramSlot = 0x2000;            // layer programs at SEQ_MEM_BASE + slot * this
constexpr uint32_t kProgramSlots = 8;

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz_device: FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

// SystemC errors and warnings are findings (the chip reports misuse in its registers, never
// through SystemC's report handler); informational reports pass.
void report_handler(const sc_core::sc_report& r, const sc_core::sc_actions& actions) {
  if (r.get_severity() >= sc_core::SC_WARNING)
    finding(std::string("SystemC report: ") + r.get_msg_type() + ": " + r.get_msg());
  sc_core::sc_report_handler::default_handler(r, actions);
}

// std::cerr as the model writes to it: kept, so that a command an engine's run_guarded failed
// (an exception inside the model) is seen, and passed on to stderr.
class CaptureBuf : public std::stringbuf {
 public:
  int sync() override {
    const std::string s = str();
    std::fwrite(s.data(), 1, s.size(), stderr);
    seen_ += s;
    str("");
    return 0;
  }
  std::string take() {
    sync();
    std::string s;
    s.swap(seen_);
    return s;
  }

 private:
  std::string seen_;
};

// The input, read front to back; bytes past its end read as 0.
class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool done() const { return i_ >= n_; }
  uint8_t u8() { return i_ < n_ ? d_[i_++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint32_t u32() { return u16() | (static_cast<uint32_t>(u16()) << 16); }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

enum Op : uint8_t {
  kWrite, kRead, kHostFill, kDma, kChain, kWeights, kProgCmd, kProgram, kSeqStart, kQueue,
  kPower, kStep, kWaitIrq, kTemperature, kReset, kRaw, kOpCount
};

// An initiator of the harness's own on the chip bus (a SystemC socket needs a module).
struct DebugPort : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<DebugPort> sock{"sock"};
  explicit DebugPort(sc_core::sc_module_name n) : sc_module(n) {}
};

// A small layer program: header, ops, slices, float table; serialized as aimc_image.h lays it out.
struct Program {
  aimc_program_hdr_t hdr{};
  std::vector<aimc_layer_t> layers;
  std::vector<aimc_slice_t> slices;
  std::vector<float> table;
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> b(sizeof hdr + layers.size() * sizeof(aimc_layer_t) +
                           slices.size() * sizeof(aimc_slice_t) + table.size() * sizeof(float));
    uint8_t* p = b.data();
    std::memcpy(p, &hdr, sizeof hdr);
    p += sizeof hdr;
    if (!layers.empty()) std::memcpy(p, layers.data(), layers.size() * sizeof(aimc_layer_t));
    p += layers.size() * sizeof(aimc_layer_t);
    if (!slices.empty()) std::memcpy(p, slices.data(), slices.size() * sizeof(aimc_slice_t));
    p += slices.size() * sizeof(aimc_slice_t);
    if (!table.empty()) std::memcpy(p, table.data(), table.size() * sizeof(float));
    return b;
  }
};

class Harness {
 public:
  Harness()
      : cfg_(config::load_platform(
            std::string(AIMC_SOURCE_DIR_DEFAULT) + "/platforms/membrain-3x4.yaml",
            {"grid.rows=1", "grid.cols=2", "tile.array.rows=32", "tile.array.cols=16",
             "sram.size_kib=64", "programming.erase_sector_rows=8"})),
        chip_(cfg_, ledger_, trace_, kHostBytes) {
    // An initiator of our own on the chip bus, for untimed (debug) clearing of the memories.
    port_.sock.bind(chip_.bus().tsock);
    chip_.bus().set_initiator_endpoint(2, sim::Endpoint::host());
    for (chip::Tile* t : chip_.tiles()) pristine_.push_back(t->cells());
    for (size_t i = 0; i < regs::kRegisterCount; ++i) addrs_.push_back(regs::kRegisters[i].offset);
    for (int t = 0; t < cfg_.tile_count(); ++t)
      for (size_t i = 0; i < regs::kTileRegisterCount; ++i)
        addrs_.push_back(AIMC_TILE_REG(t, regs::kTileRegisters[i].offset));
    chip_.cpu().set_entry([this](aimc_hal_t hal) { driver(hal); });
    zero_.assign(AIMC_SEQ_MEM_SIZE, 0);
  }

  // One input: decoded and run by the driver thread; returns when it paused after the checks.
  void run(const uint8_t* data, size_t size) {
    data_ = data;
    size_ = size;
    pending_ = true;
    done_ = false;
    try {
      sc_core::sc_start(sc_core::sc_time(kSliceNs, sc_core::SC_NS));
    } catch (const std::exception& e) {
      finding(std::string("an exception escaped sc_start: ") + e.what());
    } catch (...) {
      finding("an exception that is not a std::exception escaped sc_start");
    }
    if (sc_core::sc_get_status() == sc_core::SC_STOPPED || sc_core::sc_end_of_simulation_invoked())
      finding("the simulation stopped by itself");
    try {
      chip_.cpu().rethrow_failure();
    } catch (const std::exception& e) {
      finding(std::string("an exception escaped the driver's SystemC thread: ") + e.what());
    }
    if (!done_)
      finding("the input did not finish within " + std::to_string(kSliceNs * 1e-9) + " s of simulated time");
    if (stats_) {
      long pages = 0, resident = 0;
      if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
      }
      const long mb = resident * 4096 / (1 << 20);
      if (mb > last_rss_mb_ + 20) {
        std::string h;
        char b[4];
        for (size_t i = 0; i < size; ++i) std::snprintf(b, sizeof b, "%02x", data[i]), h += b;
        std::fprintf(stderr, "fuzz_device: RSS %ld -> %ld MB after an input of %zu bytes: %s\n", last_rss_mb_, mb, size, h.c_str());
      }
      last_rss_mb_ = std::max(last_rss_mb_, mb);
    }
    const std::string said = capture_.take();
    if (said.find("failed inside the model") != std::string::npos)
      finding("an engine caught an exception inside the model (run_guarded): " + said);
  }

  CaptureBuf capture_;

 private:
  // Register accesses through the firmware's HAL; what they answer is the input's business. A
  // write that can start work (an engine's doorbell, a tile's TEST or CAL) marks the input dirty:
  // then the memories and cells are put back after it.
  struct Bus {
    aimc_hal_t hal;
    bool& dirty;
    bool& cells_dirty;
    uint32_t rd(uint32_t off) {
      uint32_t v = 0;
      hal.ops->read32(hal.ctx, off, &v);
      return v;
    }
    void wr(uint32_t off, uint32_t v) {
      dirty = dirty || starts_work(off);
      cells_dirty = cells_dirty || off == AIMC_REG_PROG_CMD;
      hal.ops->write32(hal.ctx, off, v);
    }
  };
  static bool starts_work(uint64_t off) {
    return off == AIMC_REG_DMA_START || off == AIMC_REG_PROG_CMD || off == AIMC_REG_SEQ_START ||
           off == AIMC_REG_CQ_TAIL || off == AIMC_REG_CTRL || off >= AIMC_TILE_REGS_BASE;
  }

  void driver(aimc_hal_t hal) {
    Bus bus{hal, dirty_, cells_dirty_};
    for (;;) {
      if (pending_) {
        // Every input starts on the same phase of the 1 ms grid: the quantum keeper syncs at
        // multiples of the global quantum, so the same input runs the same way whatever ran
        // before it.
        chip_.cpu().sync();
        const uint64_t now = sim::to_ps(sc_core::sc_time_stamp()), grid = 1'000'000'000;
        if (now % grid) sc_core::wait(sim::ps_to_time(grid - now % grid));
        Reader in(data_, size_);
        dirty_ = cells_dirty_ = false;
        for (int n = 0; n < kMaxOps && !in.done(); ++n) {
          const Op kind = op(bus, in);
          if (verbose_) describe(n, kind);
        }
        settle(bus);
        if (stats_ && ++inputs_ % 250 == 0) {
          size_t analog = 0, digital = 0;
          for (chip::Tile* t : chip_.tiles()) analog += t->analog().intervals(), digital += t->digital().intervals();
          std::fprintf(stderr, "fuzz_device: %llu inputs: ledger layers %d, tile calendars %zu + %zu, host link %zu, PROGRAMs %zu, heap %zu MB allocated\n",
                       static_cast<unsigned long long>(inputs_), ledger_.layer_count(), analog, digital,
                       chip_.host_link().intervals(), chip_.programmer().stats().by_tile.size(),
                       __sanitizer_get_current_allocated_bytes() >> 20);
        }
        pending_ = false;
        done_ = true;
      }
      chip_.cpu().sync();
      sc_core::sc_pause();
      sc_core::wait(sc_core::SC_ZERO_TIME);
    }
  }

  // ---- Addresses ----
  uint32_t reg_addr(Reader& in) {
    const uint8_t sel = in.u8();
    if (sel < 0xF0) {
      uint32_t a = addrs_[sel % addrs_.size()];
      // Per-column tile registers: a column (sometimes one past the last).
      if ((a & 0xFFF) == 0 && a >= AIMC_TILE_REGS_BASE && (a & 0x3000) != 0)
        a += 4u * (in.u8() % static_cast<uint32_t>(cfg_.tile.array.cols + 1));
      return a;
    }
    if (sel < 0xF8) return in.u32() & 0x001FFFFCu;  // anywhere in the table and the tile windows
    return in.u32();                                // anywhere at all
  }
  uint32_t dev_addr(Reader& in) {
    const uint8_t sel = in.u8();
    const uint32_t off = in.u16();
    switch (sel % 8) {
      case 0: return AIMC_SEQ_MEM_BASE + off;
      case 1: return AIMC_STAGING_BASE + off;
      case 2: return AIMC_TILE_BASE + (sel >> 3) % (cfg_.tile_count() + 1) * AIMC_TILE_STRIDE + off;
      case 3: return in.u32();
      default: return AIMC_SRAM_BASE + off;
    }
  }
  uint32_t host_addr(Reader& in) { return in.u16(); }  // host memory is kHostBytes = 64 KiB

  // ---- Waiting, always bounded ----
  void wait_ns(double ns) {
    chip_.cpu().sync();
    if (ns > 0) sc_core::wait(sc_core::sc_time(ns, sc_core::SC_NS));
  }
  template <class Busy>
  void wait_while(Busy busy, double bound_ns) {
    chip_.cpu().sync();
    double step = 1000.0, waited = 0;
    while (busy() && waited < bound_ns) {
      sc_core::wait(sc_core::sc_time(step, sc_core::SC_NS));
      waited += step;
      step = std::min(step * 2, 1e6);
    }
  }

  void put_host(uint32_t addr, const void* p, size_t n) {
    if (addr >= kHostBytes) return;
    n = std::min<size_t>(n, kHostBytes - addr);
    dirty_ = true;
    std::memcpy(chip_.host_memory().at(addr), p, n);
  }
  void start_dma(Bus& bus, uint32_t host, uint32_t dev, uint32_t len, bool to_host) {
    bus.wr(AIMC_REG_DMA_HOST_ADDR, host);
    bus.wr(AIMC_REG_DMA_DEV_ADDR, dev);
    bus.wr(AIMC_REG_DMA_LEN, len);
    bus.wr(AIMC_REG_DMA_CTRL, to_host ? AIMC_DMA_CTRL_DIR_MASK : 0u);
    bus.wr(AIMC_REG_DMA_START, 1);
  }

  // ---- Layer programs: a template, then fuzzed words ----
  aimc_layer_t base_layer(uint32_t kind) const {
    aimc_layer_t l{};
    l.kind = kind;
    l.adc_full_scale = l.acc_scale = l.out_quant_scale = l.in_scale = l.in2_scale = 1.0f;
    l.act_min = -std::numeric_limits<float>::infinity();
    l.act_max = std::numeric_limits<float>::infinity();
    l.kh = l.kw = l.stride_h = l.stride_w = l.groups = 1;
    return l;
  }
  static void map(aimc_layer_t& l, uint32_t h, uint32_t w, uint32_t c, uint32_t oh, uint32_t ow, uint32_t oc) {
    l.in_h = h, l.in_w = w, l.in_c = c, l.out_h = oh, l.out_w = ow, l.out_c = oc;
    l.in_features = h * w * c;
    l.out_features = oh * ow * oc;
    l.in_stride = l.in_features;
    l.out_pixel_channels = oc;
    l.out_stride = oh * ow * oc;
  }
  Program make_program(uint8_t kind, uint8_t tile_sel) const {
    Program p;
    auto& h = p.hdr;
    h.magic = AIMC_PROGRAM_MAGIC;
    h.dac_bits = static_cast<uint32_t>(cfg_.tile.dac.bits);
    h.adc_bits = static_cast<uint32_t>(cfg_.tile.adc.bits);
    h.bits_per_cell = static_cast<uint32_t>(cfg_.tile.device.bits_per_cell);
    h.g_min_over_g_max = static_cast<float>(cfg_.tile.device.g_min_ns / cfg_.tile.device.g_max_ns);
    h.in_scale = h.out_scale = 1.0f;
    h.max_batch = 4;
    h.in_addr = AIMC_SRAM_BASE;
    h.out_addr = AIMC_SRAM_BASE + 0x8000;
    const uint32_t t = tile_sel % static_cast<uint32_t>(cfg_.tile_count());
    const chip::Tile& tile = chip_.tile(static_cast<int>(t));
    const uint32_t R = tile.programmed() ? static_cast<uint32_t>(tile.rows_used()) : 8;
    const uint32_t C = tile.programmed() ? static_cast<uint32_t>(tile.cols_used()) : 4;
    auto mvm = [&](uint32_t ih, uint32_t iw, uint32_t ic, uint32_t k) {
      aimc_layer_t l = base_layer(AIMC_OP_MVM);
      const uint32_t o = ih - k + 1;
      map(l, ih, iw, ic, o, iw - k + 1, C);
      l.kh = l.kw = k;
      l.in_features = k * k * ic;
      l.out_features = C;
      l.slice_count = 1;
      p.slices.push_back({t, 0, l.in_features, 0, C, t, 0, 0});
      p.table.assign(C, 0.25f);
      return l;
    };
    // Kinds 248-255 pick the templates of issue 20 (the others keep the templates the corpus
    // inputs were found with).
    switch (kind >= 248 ? 8 + (kind - 248) % 3 : kind % 8) {
      case 8: {  // an activation op: PReLU with a slope per channel (the table's first 3 floats)
        aimc_layer_t l = base_layer(AIMC_OP_ACT);
        map(l, 2, 2, 3, 2, 2, 3);
        l.flags = uint32_t(AIMC_ACT_PRELU) << AIMC_LAYER_ACT_SHIFT;
        p.table = {0.5f, -1.0f, 0.0f};
        p.layers.push_back(l);
        break;
      }
      case 9: {  // a map times one value per channel (squeeze-excitation), then Sigmoid
        aimc_layer_t l = base_layer(AIMC_OP_MUL);
        map(l, 2, 2, 3, 2, 2, 3);
        l.flags = AIMC_LAYER_IN2_PER_CHANNEL | (uint32_t(AIMC_ACT_SIGMOID) << AIMC_LAYER_ACT_SHIFT);
        l.in2_addr = AIMC_SRAM_BASE + 0x4000;
        l.in2_stride = 3;
        p.layers.push_back(l);
        break;
      }
      case 10: {  // a dense layer with per-column weight scales and an Elu (alpha after the scales)
        aimc_layer_t l = mvm(1, 1, R, 1);
        l.flags = AIMC_LAYER_COLUMN_SCALES | (uint32_t(AIMC_ACT_ELU) << AIMC_LAYER_ACT_SHIFT);
        p.table.assign(2 * C + 1, 0.5f);
        p.layers.push_back(l);
        break;
      }
      case 0: {  // a dense layer on the tile, int32 outputs
        aimc_layer_t l = mvm(1, 1, R, 1);
        l.flags = AIMC_LAYER_OUTPUT_I32;
        l.out_stride = 4 * C;
        p.layers.push_back(l);
        break;
      }
      case 1: {  // a 2x2 convolution, then softmax over a 1x1 map... of its first pixel's codes
        const uint32_t ic = std::max(1u, R / 4);
        aimc_layer_t l = mvm(3, 3, ic, 2);
        l.flags = AIMC_LAYER_RELU;
        p.layers.push_back(l);
        aimc_layer_t s = base_layer(AIMC_OP_SOFTMAX);
        map(s, 1, 1, C, 1, 1, C);
        p.layers.push_back(s);
        break;
      }
      case 2:
      case 3: {  // max or average pooling
        aimc_layer_t l = base_layer(kind % 8 == 2 ? AIMC_OP_MAXPOOL : AIMC_OP_AVGPOOL);
        map(l, 4, 4, 2, 2, 2, 2);
        l.kh = l.kw = l.stride_h = l.stride_w = 2;
        p.layers.push_back(l);
        break;
      }
      case 4: {  // add
        aimc_layer_t l = base_layer(AIMC_OP_ADD);
        map(l, 2, 2, 3, 2, 2, 3);
        l.in2_addr = AIMC_SRAM_BASE + 0x4000;
        l.in2_stride = l.in_stride;
        p.layers.push_back(l);
        break;
      }
      case 5: {  // concat into channels [2, 5) of 6
        aimc_layer_t l = base_layer(AIMC_OP_CONCAT);
        map(l, 2, 2, 3, 2, 2, 3);
        l.out_c_offset = 2;
        l.out_pixel_channels = 6;
        l.out_stride = 2 * 2 * 6;
        p.layers.push_back(l);
        break;
      }
      case 6: {  // depthwise 3x3 with padding
        aimc_layer_t l = base_layer(AIMC_OP_DWCONV);
        map(l, 4, 4, 2, 4, 4, 2);
        l.kh = l.kw = 3;
        l.pad_t = l.pad_l = l.pad_b = l.pad_r = 1;
        l.groups = 2;
        l.weight_offset = 2;
        p.table.assign(2 + 9 * 2, 1.0f);
        p.layers.push_back(l);
        break;
      }
      default: {  // a dense layer, then max pooling of its 1x1 map
        aimc_layer_t l = mvm(1, 1, R, 1);
        p.layers.push_back(l);
        aimc_layer_t m = base_layer(AIMC_OP_MAXPOOL);
        map(m, 1, 1, C, 1, 1, C);
        p.layers.push_back(m);
        break;
      }
    }
    // Wire the ops' regions: inputs from the header's, outputs to the header's (the last op).
    p.layers.front().in_addr = h.in_addr;
    p.layers.front().out_addr = p.layers.size() == 1 ? h.out_addr : AIMC_SRAM_BASE + 0x4000;
    if (p.layers.size() > 1) {
      p.layers[1].in_addr = p.layers[0].out_addr;
      p.layers[1].out_addr = h.out_addr;
    }
    h.layer_count = static_cast<uint32_t>(p.layers.size());
    h.slice_count = static_cast<uint32_t>(p.slices.size());
    h.bias_count = static_cast<uint32_t>(p.table.size());
    h.in_features = p.layers.front().in_features;
    h.out_features = p.layers.back().out_features;
    return p;
  }

  // AIMC_FUZZ_DEVICE_VERBOSE=1: each operation and the state it left, for replaying a finding.
  void describe(int n, Op kind) {
    static const char* const kNames[] = {"write", "read", "host fill", "dma", "chain", "weights",
                                         "prog cmd", "program", "seq start", "queue", "power",
                                         "step", "wait irq", "temperature", "reset", "raw"};
    chip::HostInterface& h = chip_.host();
    std::fprintf(stderr,
                 "fuzz_device: op %d %-11s t=%.0f ns ERROR_CODE=%u ERROR_ADDR=0x%x IRQ_STATUS=0x%x DMA=%u PROG=%u "
                 "SEQ=%u CQ=%u busy=%d heap=%zuMB %s\n",
                 n, kNames[kind], sc_core::sc_time_stamp().to_seconds() * 1e9, h.peek("ERROR_CODE"),
                 h.peek("ERROR_ADDR"), h.peek("IRQ_STATUS"), h.peek("DMA_STATUS"), h.peek("PROG_STATUS"),
                 h.peek("SEQ_STATUS"), h.peek("CQ_STATUS"), h.busy() ? 1 : 0,
                 __sanitizer_get_current_allocated_bytes() >> 20,
                 chip_.sequencer().last_problem().c_str());
  }

  // ---- One operation ----
  Op op(Bus& bus, Reader& in) {
    const Op kind = static_cast<Op>(in.u8() % kOpCount);
    switch (kind) {
      case kWrite: {
        const uint32_t a = reg_addr(in);
        uint32_t v = in.u32();
        if (a == AIMC_REG_PROG_MAX_ITER) v = std::min(v, kMaxIter);  // bounded work per PROGRAM
        bus.wr(a, v);
        break;
      }
      case kRead: bus.rd(reg_addr(in)); break;
      case kHostFill: {
        const uint32_t at = host_addr(in);
        const uint8_t n = in.u8();
        uint8_t buf[256];
        for (int i = 0; i < n; ++i) buf[i] = in.u8();
        put_host(at, buf, n);
        break;
      }
      case kDma: {
        const uint8_t flags = in.u8();
        const uint32_t host = host_addr(in), dev = dev_addr(in);
        const uint32_t len = flags & 0x80 ? in.u32() : in.u16();
        start_dma(bus, host, dev, len, flags & 1);
        break;
      }
      case kChain: {
        // Up to 8 descriptors at a fuzzed place in host memory, linked in order; the last one
        // ends the chain, points back to the first (a loop) or anywhere.
        const uint8_t head = in.u8();
        const uint32_t n = head % 8 + 1;
        const uint32_t base = host_addr(in) & ~3u;
        std::vector<aimc_dma_desc_t> d(n);
        for (uint32_t k = 0; k < n; ++k) {
          const uint8_t f = in.u8();
          d[k].flags = f & 0x10 ? in.u32() : f & 1u;
          d[k].host_addr = host_addr(in);
          d[k].dev_addr = dev_addr(in);
          d[k].row_bytes = in.u16() % 2048;
          d[k].rows = f & 2 ? in.u8() % 16 : 1;
          d[k].host_stride = in.u16() % 4096;
          d[k].dev_stride = in.u16() % 4096;
          d[k].next = k + 1 < n ? base + (k + 1) * uint32_t(sizeof(aimc_dma_desc_t)) : 0;
        }
        const uint8_t end = (head >> 3) & 0xF;
        if (end == 1) d.back().next = base;  // a loop: the engine stops at AIMC_DMA_MAX_CHAIN
        if (end == 2) d.back().next = in.u32();
        put_host(base, d.data(), d.size() * sizeof(aimc_dma_desc_t));
        bus.wr(AIMC_REG_DMA_DESC_ADDR, head & 0x80 ? in.u32() : base);
        bus.wr(AIMC_REG_DMA_CTRL, AIMC_DMA_CTRL_CHAIN_MASK);
        bus.wr(AIMC_REG_DMA_START, 1);
        break;
      }
      case kWeights: {
        // A weight block to the staging buffer by DMA, then PROGRAM (or VERIFY) of a tile.
        const uint8_t f = in.u8();
        const uint32_t tile = in.u8() % static_cast<uint32_t>(cfg_.tile_count() + 1);
        aimc_weights_hdr_t w{};
        w.rows = in.u8() % static_cast<uint32_t>(cfg_.tile.array.rows + 2);
        w.cols = in.u8() % static_cast<uint32_t>(cfg_.tile.array.cols + 2);
        w.bits_per_cell = f & 0x40 ? in.u8() : static_cast<uint32_t>(cfg_.tile.device.bits_per_cell);
        const int max_level = (1 << cfg_.tile.device.bits_per_cell) - 1;
        std::vector<uint8_t> block(sizeof w + 2u * w.rows * w.cols);
        std::memcpy(block.data(), &w, sizeof w);
        for (size_t i = 0; i < size_t(w.rows) * w.cols; ++i) {
          const uint8_t b = in.u8();
          int16_t level = f & 0x20 ? static_cast<int16_t>(b | (in.u8() << 8))
                                   : static_cast<int16_t>(b % (2 * max_level + 1) - max_level);
          std::memcpy(block.data() + sizeof w + 2 * i, &level, 2);
        }
        const uint32_t at = 0x8000;
        put_host(at, block.data(), block.size());
        start_dma(bus, at, AIMC_STAGING_BASE, static_cast<uint32_t>(block.size()), false);
        wait_while([this] { return chip_.host().busy(); }, kOpWaitNs);
        bus.wr(AIMC_REG_PROG_TILE, tile);
        bus.wr(AIMC_REG_PROG_CMD, f & 1 ? AIMC_PROG_VERIFY : AIMC_PROG_PROGRAM);
        if (f & 2) wait_while([this] { return chip_.programmer().busy(); }, kOpWaitNs);
        break;
      }
      case kProgCmd: {
        const uint8_t f = in.u8();
        bus.wr(AIMC_REG_PROG_TILE, in.u8() % static_cast<uint32_t>(cfg_.tile_count() + 2));
        bus.wr(AIMC_REG_PROG_ROW, in.u8());
        bus.wr(AIMC_REG_PROG_COL, in.u8());
        bus.wr(AIMC_REG_PROG_SIDE, f >> 6);
        bus.wr(AIMC_REG_PROG_CMD, f % 6);  // 0 and 5 are no command
        break;
      }
      case kProgram: {
        // A template program, some of its 32-bit words replaced, DMA'd to a program slot.
        const uint8_t slot = in.u8(), kind = in.u8(), tile = in.u8();
        Program p = make_program(kind, tile);
        std::vector<uint8_t> bytes = p.bytes();
        const uint8_t pokes = in.u8() % 8;
        for (int k = 0; k < pokes; ++k) {
          const size_t word = in.u16() % (bytes.size() / 4);
          const uint32_t v = in.u32();
          std::memcpy(bytes.data() + 4 * word, &v, 4);
        }
        const uint32_t at = 0xA000;
        put_host(at, bytes.data(), bytes.size());
        const uint32_t prog = AIMC_SEQ_MEM_BASE + (slot % kProgramSlots) * kProgramSlot;
        start_dma(bus, at, prog, static_cast<uint32_t>(bytes.size()), false);
        wait_while([this] { return chip_.host().busy(); }, kOpWaitNs);
        bus.wr(AIMC_REG_SEQ_PROG_ADDR, slot & 0x80 ? prog + (slot & 0x7F) : prog);
        break;
      }
      case kSeqStart: {
        const uint8_t b = in.u8();
        bus.wr(AIMC_REG_SEQ_BATCH, (b & 0x7F) % 6);
        bus.wr(AIMC_REG_SEQ_START, 1);
        if (b & 0x80) wait_while([this] { return chip_.sequencer().busy(); }, kOpWaitNs);
        break;
      }
      case kQueue: {
        // A ring of up to 8 entries in host memory, then CQ_BASE, CQ_ENTRIES and the doorbell.
        const uint8_t head = in.u8();
        const uint32_t n = head % 8 + 1;
        const uint32_t base = host_addr(in) & ~3u;
        std::vector<aimc_cmd_t> ring(n);
        for (auto& c : ring) {
          const uint8_t f = in.u8();
          c.opcode = f & 0x40 ? in.u8() : AIMC_CMD_INFER;
          c.flags = f & 0x20 ? in.u8() : f & AIMC_CMD_FLAG_IRQ;
          c.in_host_addr = host_addr(in);
          c.out_host_addr = host_addr(in);
          c.batch = in.u8() % 6;
        }
        put_host(base, ring.data(), ring.size() * sizeof(aimc_cmd_t));
        bus.wr(AIMC_REG_CQ_BASE, head & 0x80 ? in.u32() : base);
        bus.wr(AIMC_REG_CQ_ENTRIES, head & 0x40 ? in.u32() : n);
        bus.wr(AIMC_REG_CQ_TAIL, in.u8() % (n + 1));
        break;
      }
      case kPower: bus.wr(AIMC_REG_POWER_STATE, in.u8() % 4); break;
      case kStep: wait_ns(in.u16() * kStepUnitNs); break;
      case kWaitIrq: {
        bus.wr(AIMC_REG_IRQ_ENABLE, in.u8());
        hal_wait_irq(in.u16() * kIrqUnitNs);
        const uint32_t pending = bus.rd(AIMC_REG_IRQ_STATUS);
        if (pending & AIMC_IRQ_ERROR) bus.wr(AIMC_REG_ERROR_CODE, 0xFFFFFFFFu);
        bus.wr(AIMC_REG_IRQ_STATUS, pending);
        break;
      }
      case kTemperature: chip_.set_environment(-40.0 + in.u8()); break;
      case kReset: bus.wr(AIMC_REG_CTRL, in.u8() & 3u); break;
      case kRaw: raw(in); break;
      default: break;
    }
    return kind;
  }
  void hal_wait_irq(double ns) {
    aimc_hal_t hal = chip_.cpu().hal();
    hal.ops->wait_irq(hal.ctx, static_cast<uint64_t>(ns));
  }

  // An access the HAL cannot make: another size, misaligned, byte enables, a burst, no command.
  void raw(Reader& in) {
    const uint8_t f = in.u8();
    const uint32_t a = reg_addr(in) + (f >> 6);
    dirty_ = dirty_ || starts_work(a & ~3u);
    cells_dirty_ = cells_dirty_ || (a & ~3u) == AIMC_REG_PROG_CMD;
    static const unsigned kLengths[] = {4, 1, 2, 8};
    uint8_t data[8];
    const uint32_t v = in.u32();
    std::memcpy(data, &v, 4);
    std::memcpy(data + 4, &v, 4);
    uint8_t be[8];
    std::memset(be, 0xFF, sizeof be);
    tlm::tlm_generic_payload gp;
    gp.set_command(f & 1 ? tlm::TLM_WRITE_COMMAND : f & 2 ? tlm::TLM_IGNORE_COMMAND : tlm::TLM_READ_COMMAND);
    gp.set_address(a);
    gp.set_data_ptr(data);
    gp.set_data_length(kLengths[(f >> 2) & 3]);
    gp.set_streaming_width(f & 0x10 ? 2 : gp.get_data_length());
    if (f & 0x20) {
      gp.set_byte_enable_ptr(be);
      gp.set_byte_enable_length(4);
    }
    chip_.cpu().raw_access(gp);
  }

  // ---- After the input: drain, reset, put back, check ----
  void settle(Bus& bus) {
    wait_while([this] { return chip_.host().busy(); }, kDrainNs);
    if (chip_.host().busy())
      finding("an engine is still busy " + std::to_string(kDrainNs * 1e-9) +
              " s (simulated) after the input's last operation");
    // What the register reset does not cover: the environment, the cells, the memories.
    chip_.set_environment(cfg_.tile.device.t_ref_c);
    auto tiles = chip_.tiles();
    if (cells_dirty_)
      for (size_t t = 0; t < tiles.size(); ++t) tiles[t]->restore(pristine_[t], false, 0, 0, 0.0);
    if (dirty_) clear_memories();
    bus.wr(AIMC_REG_CTRL, AIMC_CTRL_FULL_RESET_MASK);
    check_reset();
  }

  void debug_zero(uint64_t addr, uint64_t bytes) {
    for (uint64_t done = 0; done < bytes;) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(bytes - done, zero_.size()));
      tlm::tlm_generic_payload gp;
      aimc::sim::set_plain(gp, tlm::TLM_WRITE_COMMAND, addr + done, zero_.data(), n);
      port_.sock->transport_dbg(gp);
      done += n;
    }
  }
  void clear_memories() {
    std::memset(chip_.host_memory().at(0), 0, kHostBytes);
    debug_zero(AIMC_SEQ_MEM_BASE, AIMC_SEQ_MEM_SIZE);
    debug_zero(AIMC_STAGING_BASE, chip_.programmer().staging_bytes());
    debug_zero(AIMC_SRAM_BASE, uint64_t(cfg_.sram.size_kib) * 1024);
    for (chip::Tile* t : chip_.tiles())
      debug_zero(AIMC_TILE_BASE + uint64_t(t->index()) * AIMC_TILE_STRIDE, t->window_bytes());
  }

  // Reads without the HAL's sync before every read (the quantum keeper syncs when it must).
  uint32_t read(uint32_t off) {
    uint32_t v = 0xDEADBEEF;
    tlm::tlm_generic_payload gp;
    aimc::sim::set_plain(gp, tlm::TLM_READ_COMMAND, off, &v, 4);
    if (chip_.cpu().raw_access(gp) != tlm::TLM_OK_RESPONSE)
      finding("after FULL_RESET, the read of register " + hex(off) + " failed");
    ++reads_;
    return v;
  }

  void check_reset() {
    reads_ = 1;  // the CTRL write
    auto expect = [&](const char* name, uint32_t off, uint32_t got, uint32_t want) {
      if (got != want)
        finding(std::string("after FULL_RESET, ") + name + " (" + hex(off) + ") reads " + hex(got) +
                ", its reset value is " + hex(want));
    };
    // Counters restarted by the reset: only what the check's own accesses add.
    const uint32_t energy = read(AIMC_REG_PERF_ENERGY_NJ);
    const double energy_max = (reads_ + 1) * cfg_.host.e_reg_access_pj * 1e-3 + 1;
    if (energy > energy_max)
      finding("after FULL_RESET, PERF_ENERGY_NJ reads " + std::to_string(energy) + " nJ (its own reads cost " +
              std::to_string(energy_max) + " nJ at most)");
    for (size_t i = 0; i < regs::kRegisterCount; ++i) {
      const regs::Register& r = regs::kRegisters[i];
      if (r.access == regs::Access::wo) continue;
      const uint32_t v = read(r.offset);
      const std::string name = r.name;
      if (name == "PERF_TIME_NS_LO" || name == "PERF_CYCLES_LO") {
        if (v > 10'000'000u) finding("after FULL_RESET, " + name + " reads " + std::to_string(v) + ": not restarted");
        continue;
      }
      if (name == "PERF_ENERGY_NJ") continue;
      if (name == "TEMP_MC") {  // the sensor: the die temperature the harness put back
        expect(r.name, r.offset, v, static_cast<uint32_t>(std::lround(cfg_.tile.device.t_ref_c * 1000.0)));
        continue;
      }
      if (r.reset == regs::kFromConfig) {
        if (config_values_.size() <= i) config_values_.resize(regs::kRegisterCount, 0);
        if (!have_config_values_) config_values_[i] = v;  // the first check is at power-on
        expect(r.name, r.offset, v, config_values_[i]);
        continue;
      }
      expect(r.name, r.offset, v, r.reset);
    }
    have_config_values_ = true;
    // The tiles' windows: GAIN, TRIMs, CAL_REF, CAL_NA, the clipped flag and the TEST results are
    // registers; with the cells put back, the tile holds no weights. MVMS and ADC_CLIPS count
    // since power-on, UNCONVERGED belongs to the last PROGRAM: not registers that reset.
    const auto cols = static_cast<uint32_t>(cfg_.tile.array.cols);
    for (int t = 0; t < cfg_.tile_count(); ++t) {
      auto tr = [&](uint32_t reg) { return static_cast<uint32_t>(AIMC_TILE_REG(t, reg)); };
      expect("tile STATUS", tr(AIMC_TREG_STATUS), read(tr(AIMC_TREG_STATUS)), 0);
      expect("tile FLAGS", tr(AIMC_TREG_FLAGS), read(tr(AIMC_TREG_FLAGS)), 0);
      expect("tile ROWS_USED", tr(AIMC_TREG_ROWS_USED), read(tr(AIMC_TREG_ROWS_USED)), 0);
      expect("tile COLS_USED", tr(AIMC_TREG_COLS_USED), read(tr(AIMC_TREG_COLS_USED)), 0);
      expect("tile CAL_NA", tr(AIMC_TREG_CAL_NA), read(tr(AIMC_TREG_CAL_NA)), 0);
      expect("tile CAL_REF", tr(AIMC_TREG_CAL_REF), read(tr(AIMC_TREG_CAL_REF)), 0);
      expect("tile GAIN", tr(AIMC_TREG_GAIN), read(tr(AIMC_TREG_GAIN)), 0x10000u);
      for (uint32_t c = 0; c < cols; ++c) {
        expect("tile TRIM[c]", tr(AIMC_TREG_TRIM(c)), read(tr(AIMC_TREG_TRIM(c))), 0);
        expect("tile RESULT[c]", tr(AIMC_TREG_RESULT(c)), read(tr(AIMC_TREG_RESULT(c))), 0);
      }
    }
  }

  config::PlatformConfig cfg_;
  sim::EnergyLedger ledger_;
  sim::TraceSink trace_;
  chip::Chip chip_;
  DebugPort port_{"fuzz_port"};
  std::vector<num::CellState> pristine_;
  std::vector<uint32_t> addrs_;
  std::vector<uint8_t> zero_;
  std::vector<uint32_t> config_values_;
  bool have_config_values_ = false;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  const bool verbose_ = std::getenv("AIMC_FUZZ_DEVICE_VERBOSE") != nullptr;
  const bool stats_ = std::getenv("AIMC_FUZZ_DEVICE_STATS") != nullptr;
  uint64_t inputs_ = 0;
  long last_rss_mb_ = 0;
  bool pending_ = false;
  bool done_ = false;
  bool dirty_ = false;        // the input may have changed memory contents
  bool cells_dirty_ = false;  // ... or cells (a PROG_CMD was written)
  uint64_t reads_ = 0;
};

Harness* harness = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // The chip's statistics and calendars grow during an input and are freed later, so libFuzzer's
  // per-input leak check (a LeakSanitizer pass over the whole heap, the SystemC threads' stacks
  // included) would run after most inputs until its 1000th attempt, at ~40 ms each. It is off
  // unless asked for (-detect_leaks=1); LeakSanitizer still reports lost memory at exit.
  bool leaks_flag = false;
  for (int i = 1; i < *argc; ++i) leaks_flag |= std::strncmp((*argv)[i], "-detect_leaks=", 14) == 0;
  if (!leaks_flag) {
    static std::vector<char*> args;
    static char off[] = "-detect_leaks=0";
    args.assign(*argv, *argv + *argc);
    args.push_back(off);
    args.push_back(nullptr);
    *argv = args.data();
    ++*argc;
    std::fprintf(stderr, "fuzz_device: -detect_leaks=0 (the per-input leak check; lost memory is reported at exit)\n");
  }
  setenv("SC_COPYRIGHT_MESSAGE", "DISABLE", 0);
  sc_core::sc_report_handler::set_handler(report_handler);
  harness = new Harness();  // lives as long as the process (one elaboration)
  std::cerr.rdbuf(&harness->capture_);
  harness->run(nullptr, 0);  // no operations: the first check, at power-on, learns: the reset values of the config-set registers
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  harness->run(data, size);
  return 0;
}

// libsystemc.so refers to sc_main; libFuzzer's main runs instead, and elaborates in
// LLVMFuzzerInitialize.
int sc_main(int, char*[]) { return 0; }

// SystemC switches stacks (QuickThreads) without telling AddressSanitizer, after which the leak
// check at exit no longer scans the main thread's stack: libFuzzer's own argument strings, held
// there by FuzzerDriver, then look leaked. Only allocations made by libFuzzer's driver are
// suppressed; the model's and the harness's are checked.
extern "C" const char* __lsan_default_suppressions() { return "leak:fuzzer::FuzzerDriver\n"; }
