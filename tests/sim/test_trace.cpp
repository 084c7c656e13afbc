#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <vector>
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/trace.h"
#include "sim/trace_store.h"
#include "sim/trace_writers.h"

using aimc::sim::TraceStore;
using aimc::sim::TraceSink;
using nlohmann::json;

namespace {

std::unique_ptr<aimc::sim::TraceWriter> chrome_writer() {
  return aimc::sim::find_trace_format("chrome")->make();
}
std::string chrome(const TraceStore& store) { return chrome_writer()->to_string(store); }

// The events of traces/example.json: one inference of a two-layer network on two tiles.
void record_example(TraceStore& w) {
  w.set_metadata("platform", "example");
  const int host = w.track("host");
  const int bus = w.track("bus");
  const int tile0 = w.track("tile0");
  const int tile1 = w.track("tile1");
  w.span(host, "dma in", 0, 1100000, {{"bytes", 784}, {"energy_pj", 7840.0}});
  w.span(bus, "wr sram", 100000, 1000000, {{"bytes", 784}, {"energy_pj", 337.12}, {"layer", "(none)"}});
  w.span(bus, "rd sram", 1100000, 1000000, {{"bytes", 784}, {"energy_pj", 337.12}, {"layer", "fc1"}});
  w.span(tile0, "mvm fc1", 2100000, 700000, {{"rows", 784}, {"cols", 128}, {"energy_pj", 1520.5}});
  w.span(tile0, "dac", 2100000, 1000, {{"conversions", 784}, {"energy_pj", 392.0}});
  w.span(tile0, "array", 2101000, 100000, {{"energy_pj", 20.25}});
  w.span(tile0, "adc", 2201000, 160000, {{"conversions", 128}, {"energy_pj", 213.76}});
  w.counter(bus, "queue", 1100000, 1);
  w.counter(bus, "queue", 2100000, 0);
  w.span(bus, "wr tile1", 2800000, 90000, {{"bytes", 128}, {"energy_pj", 55.04}, {"layer", "fc2"}});
  w.span(tile1, "mvm fc2", 2890000, 400000, {{"rows", 128}, {"cols", 10}, {"energy_pj", 310.125}});
  w.instant(host, "irq done", 3290000);
  // Signals: not in example.json (the Chrome writer leaves them out), drawn in example.vcd.
  w.signal(host, "irq", 0, 0);
  w.signal(host, "power_state", 0, 0, 2);
  w.signal(host, "irq", 3290000, 1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const json* find_event(const json& doc, const std::string& ph, const std::string& name) {
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == ph && e.at("name") == name) return &e;
  }
  return nullptr;
}

}  // namespace

TEST(Trace, DisabledSinkRecordsNothing) {
  TraceSink sink;
  EXPECT_FALSE(sink.enabled());
  const int t = sink.track("tile0");
  EXPECT_EQ(sink.track("tile0"), t);
  EXPECT_EQ(sink.track_name(t), "tile0");
  sink.span(t, "mvm", 0, 10, {{"energy_pj", 1.0}});
  sink.counter(t, "busy", 0, 1.0);
  sink.instant(t, "x", 0);
  SUCCEED();
}

TEST(Trace, SpanTimesArePicosecondsAsMicroseconds) {
  TraceStore w;
  EXPECT_TRUE(w.enabled());
  const int bus = w.track("bus");
  w.span(bus, "wr sram", 1234567, 50001, {{"bytes", 64}, {"energy_pj", 27.52}, {"layer", "fc1"}});
  w.span(bus, "rd sram", 3000000000000ull, 1, {});
  const std::string text = chrome(w);
  const json doc = json::parse(text);
  EXPECT_EQ(doc.at("displayTimeUnit"), "ns");
  const json* e = find_event(doc, "X", "wr sram");
  ASSERT_NE(e, nullptr);
  EXPECT_DOUBLE_EQ(e->at("ts").get<double>(), 1.234567);
  EXPECT_DOUBLE_EQ(e->at("dur").get<double>(), 0.050001);
  EXPECT_EQ(e->at("args").at("bytes"), 64);
  EXPECT_DOUBLE_EQ(e->at("args").at("energy_pj").get<double>(), 27.52);
  EXPECT_EQ(e->at("args").at("layer"), "fc1");
  // Exact decimal text, no float rounding: 1234567 ps = 1.234567 us.
  EXPECT_NE(text.find("\"ts\":1.234567,\"dur\":0.050001"), std::string::npos);
  const json* late = find_event(doc, "X", "rd sram");
  ASSERT_NE(late, nullptr);
  EXPECT_NE(text.find("\"ts\":3000000,\"dur\":0.000001"), std::string::npos);
}

TEST(Trace, TracksAreNamedAndSorted) {
  TraceStore w;
  w.track("host");
  w.track("bus");
  w.track("tile0");
  const json doc = json::parse(chrome(w));
  std::map<int, std::string> names;
  std::map<int, int> sort_index;
  bool process_named = false;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") != "M") continue;
    if (e.at("name") == "process_name") process_named = e.at("args").at("name") == "aimc-vp";
    if (e.at("name") == "thread_name") names[e.at("tid")] = e.at("args").at("name");
    if (e.at("name") == "thread_sort_index") sort_index[e.at("tid")] = e.at("args").at("sort_index");
  }
  EXPECT_TRUE(process_named);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[1], "host");
  EXPECT_EQ(names[2], "bus");
  EXPECT_EQ(names[3], "tile0");
  EXPECT_EQ(sort_index[1], 0);
  EXPECT_EQ(sort_index[3], 2);
}

TEST(Trace, CountersAndInstants) {
  TraceStore w;
  const int bus = w.track("bus");
  w.counter(bus, "queue", 2000, 3.5);
  w.instant(bus, "decode error", 1000, {{"address", 4096}});
  const json doc = json::parse(chrome(w));
  const json* c = find_event(doc, "C", "bus.queue");
  ASSERT_NE(c, nullptr);
  EXPECT_DOUBLE_EQ(c->at("ts").get<double>(), 0.002);
  EXPECT_DOUBLE_EQ(c->at("args").at("value").get<double>(), 3.5);
  const json* i = find_event(doc, "i", "decode error");
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->at("s"), "t");
  EXPECT_EQ(i->at("args").at("address"), 4096);
  // Written in time order: the instant (1000 ps) before the counter (2000 ps).
  int pos_i = -1, pos_c = -1, k = 0;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == "i") pos_i = k;
    if (e.at("ph") == "C") pos_c = k;
    ++k;
  }
  EXPECT_LT(pos_i, pos_c);
}

TEST(Trace, EscapingAndNonFiniteNumbers) {
  TraceStore w;
  const int t = w.track("odd \"track\"\n");
  w.span(t, "a\\b\x01", 0, 1, {{"nan", std::nan("")}, {"text", "tab\there"}});
  const json doc = json::parse(chrome(w));
  const json* e = find_event(doc, "X", "a\\b\x01");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->at("args").at("nan").is_null());
  EXPECT_EQ(e->at("args").at("text"), "tab\there");
}

TEST(Trace, DeterministicOutput) {
  TraceStore a, b;
  record_example(a);
  record_example(b);
  EXPECT_EQ(chrome(a), chrome(b));
  EXPECT_EQ(a.event_count(), 12u);
  EXPECT_EQ(a.signals().size(), 3u);
}

TEST(Trace, MaxEventsTruncatesWithNote) {
  TraceStore w(3);
  const int t = w.track("tile0");
  for (int i = 0; i < 10; ++i) w.span(t, "mvm", 1000u * i, 500);
  EXPECT_EQ(w.event_count(), 3u);
  EXPECT_EQ(w.dropped_events(), 7u);
  const json doc = json::parse(chrome(w));
  EXPECT_EQ(doc.at("otherData").at("truncated"), true);
  EXPECT_EQ(doc.at("otherData").at("dropped_events"), 7);
  EXPECT_EQ(doc.at("otherData").at("max_events"), 3);
  EXPECT_THROW(w.set_metadata("truncated", "no"), std::invalid_argument);
}

TEST(Trace, ParentSpanPrecedesChildAtSameStart) {
  TraceStore w;
  const int t = w.track("tile0");
  w.span(t, "dac", 1000, 10);    // child recorded first, as LT models often do
  w.span(t, "mvm", 1000, 500);
  const json doc = json::parse(chrome(w));
  std::vector<std::string> order;
  for (const auto& e : doc.at("traceEvents"))
    if (e.at("ph") == "X") order.push_back(e.at("name"));
  EXPECT_EQ(order, (std::vector<std::string>{"mvm", "dac"}));
}

TEST(Trace, UnknownTrackIsAModelBug) {
  TraceStore w;
  EXPECT_THROW(w.span(3, "x", 0, 1), std::invalid_argument);
}

TEST(Trace, WriteFileAndErrorsNameThePath) {
  TraceStore w;
  record_example(w);
  const std::string path = testing::TempDir() + "aimc_trace_test.json";
  chrome_writer()->write_file(w, path);
  EXPECT_EQ(read_file(path), chrome(w));
  const std::string bad = "/nonexistent-dir/x/trace.json";
  try {
    chrome_writer()->write_file(w, bad);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos);
  }
}

// A trace file is written whole or not at all (issue 17, defect 6): a writer that fails half way
// (as a full disk or a stop would leave it) leaves the file that was there, and no temporary.
TEST(Trace, AFailedWriteLeavesTheOldFile) {
  class FailingWriter : public aimc::sim::TraceWriter {
   public:
    void write(const TraceStore&, std::ostream& out) const override {
      out << "{\"traceEvents\":[\n";
      throw std::runtime_error("failed half way");
    }
  };
  TraceStore w;
  record_example(w);
  const std::string dir = testing::TempDir() + "aimc_trace_atomic_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/trace.json";
  chrome_writer()->write_file(w, path);
  const std::string complete = read_file(path);
  EXPECT_THROW(FailingWriter().write_file(w, path), std::runtime_error);
  EXPECT_EQ(read_file(path), complete);
  EXPECT_TRUE(json::accept(read_file(path)));
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1u) << "a temporary file was left in " << dir;
  std::filesystem::remove_all(dir);
}

// traces/example.{json,vcd,csv} are the writers' output for record_example(); keep them in
// step. AIMC_UPDATE_EXAMPLE_TRACE=1 rewrites them.
TEST(Trace, CommittedExampleMatchesWriter) {
  const char* src = std::getenv("AIMC_SOURCE_DIR");
#ifdef AIMC_SOURCE_DIR_DEFAULT
  if (src == nullptr) src = AIMC_SOURCE_DIR_DEFAULT;
#endif
  if (src == nullptr) GTEST_SKIP() << "AIMC_SOURCE_DIR not set";
  TraceStore w;
  record_example(w);
  for (const auto* format : aimc::sim::trace_formats()) {
    const auto writer = format->make();
    const std::string path = std::string(src) + "/traces/example" + format->extensions.front();
    if (const char* upd = std::getenv("AIMC_UPDATE_EXAMPLE_TRACE"); upd && std::string(upd) == "1") {
      writer->write_file(w, path);
    }
    const std::string committed = read_file(path);
    ASSERT_FALSE(committed.empty()) << path;
    EXPECT_EQ(committed, writer->to_string(w)) << path;
    if (format->name == "chrome") {
      EXPECT_TRUE(json::accept(committed));
    }
  }
}
