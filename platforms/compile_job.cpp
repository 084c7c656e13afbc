// `aimc compile`, and the compiler options and data-set files `aimc run` shares with it.
#include <filesystem>
#include <string>
#include <vector>

#include "compiler/compile.h"
#include "compiler/dataset.h"
#include "compiler/image.h"
#include "compiler/onnx_import.h"
#include "io/atomic_file.h"
#include "run_job.h"

namespace aimc::app {

std::string idx_file(const std::string& dir, const char* base) {
  for (const char* ext : {".gz", ""}) {
    const std::string p = dir + "/" + base + ext;
    if (std::filesystem::exists(p)) return p;
  }
  throw UserError("data set: no " + std::string(base) + "[.gz] in " + dir +
                  " (install the Debian package dataset-fashion-mnist, or pass --data DIR)");
}

compiler::CompileOptions make_compile_options(const std::string& depthwise, bool replicate,
                                               const std::vector<std::string>& key_values) {
  compiler::CompileOptions copt;
  try {
    copt.depthwise = compiler::parse_depthwise(depthwise);
  } catch (const compiler::CompileError& e) {
    throw UserError(std::string("--depthwise: ") + e.what());
  }
  copt.replicate = replicate;
  for (const std::string& kv : key_values) {
    try {
      compiler::set_compile_option(copt, kv);
    } catch (const compiler::CompileError& e) {
      throw UserError(std::string("--compile-option: ") + e.what());
    }
  }
  return copt;
}

std::string compile_option_help() {
  return "set a compiler option (repeatable; applied in order after --depthwise and --replicate; "
         "docs/compiler.md). Keys:\n" +
         compiler::compile_options_help();
}

nlohmann::json compile_job(const CompileJob& job) {
  try {
    io::check_writable(job.output_path, "-o");
  } catch (const io::OutputError& e) {
    throw UserError(e.what());
  }
  const config::PlatformConfig cfg = load_platform_or_fail(job.platform_path, job.overrides);
  const compiler::CompileOptions copt = make_compile_options(job.depthwise, job.replicate, job.compile_options);
  compiler::CompiledModel cm;
  try {
    const compiler::Graph net = compiler::import_onnx(job.model_path);
    const compiler::Dataset calib =
        compiler::load_idx(idx_file(job.data_dir, "train-images-idx3-ubyte"),
                           idx_file(job.data_dir, "train-labels-idx1-ubyte"), copt.calibration_vectors);
    cm = compiler::compile(net, cfg, calib.images, copt);
  } catch (const compiler::ModelError& e) {
    throw UserError(e.what());
  } catch (const compiler::DatasetError& e) {
    throw UserError(e.what());
  } catch (const compiler::CompileError& e) {
    throw UserError(e.what());
  }
  const auto parent = std::filesystem::path(job.output_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  try {
    compiler::write_file(job.output_path, cm.image);
  } catch (const std::exception& e) {
    throw UserError(std::string("-o: ") + e.what());
  }
  nlohmann::json r = cm.summary;
  r["image_file"] = job.output_path;
  r["image_bytes"] = cm.image.size();
  return r;
}

}  // namespace aimc::app
