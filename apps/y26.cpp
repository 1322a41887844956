// The y26 program. Each subcommand lives in its own file; this one dispatches
// and turns every y26::Error into one line on stderr and exit code 2.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "commands.h"
#include "y26/y26.h"

namespace {

constexpr const char* kUsage =
    "y26 %s — YOLO26 inference engine\n"
    "\n"
    "usage:\n"
    "  y26 detect -w MODEL -i IMAGE|VIDEO|URL|/dev/videoN|-|DIR... [-o OUTDIR] [--json FILE|-] [--no-draw] [--batch N]\n"
    "             [--conf 0.25] [--iou 0.7] [--max-det 300] [--imgsz N] [--nms] [--device auto|cpu|cuda[:N]|emu]\n"
    "             [--letterbox auto|square|rect] [--precision auto|fp32|fp16] [--threads N]\n"
    "             [--retina-masks]        (segmentation: masks at the image's resolution, not the input's)\n"
    "             [--vid-stride N] [--max-frames N] [--workers N]  (videos and streams: an annotated mp4 each,\n"
    "                                     JSON Lines a frame each)\n"
    "             [--raw WxH[@FPS]]       (-i -: raw rgb24 frames of that size on standard input)\n"
    "  y26 val    -w MODEL --data DATA.yaml [--split val|test|train] [--batch 16] [--save-json FILE]\n"
    "             [--json FILE|-] [--conf 0.001] [--iou 0.7] [--imgsz N] [--nms] [--device ...]\n"
    "                                     (mAP on a labelled YOLO dataset, as yolo val computes it)\n"
    "  y26 bench  -w MODEL [--imgsz N] [--batch N] [--iters N] [--warmup N] [--device ...] [--json FILE|-]\n"
    "             [--kernels auto|fast|reference (CPU) | y26|cudnn|cudnn-conv (GPU)]  (cudnn: every conv layer through cuDNN, the vendor\n"
    "                                     baseline; cudnn-conv: cuDNN's convolutions alone, for timing)\n"
    "             [--ops]                 (each op's time, run one by one)\n"
    "             [--engines N]           (N engines sharing the weights, on N threads at once: throughput)\n"
    "             [--roofline [--gpu h200|h100]]  (the GPU's physical limit for the model: latency at batch 1,\n"
    "                                     throughput at --batch (64); runs nothing)\n"
    "             [--soak N]              (N calls of mixed sizes and batches, then on two engines: memory\n"
    "                                     and results must hold steady)\n"
    "  y26 plan   -w MODEL [--imgsz N] [--batch N] [--budget BYTES|2GiB] [--tensors] [--json FILE|-]\n"
    "  y26 info   -w MODEL [--imgsz N]       describe a model file and the graph y26 builds from it\n"
    "  y26 convert MODEL.pt OUT.safetensors   convert an Ultralytics checkpoint to safetensors\n"
    "  y26 env    [--json FILE|-]           what this build can use here: backends, GPU and driver, cuDNN\n"
    "\n"
    "MODEL is an Ultralytics .pt checkpoint (read natively, no Python) or a .safetensors file.\n"
    "--imgsz defaults to the size the checkpoint was trained at (as Ultralytics' predict and val), else 640.\n"
    "Errors are one line on stderr and exit code 2.\n";

// `y26 CMD --help`: the usage lines of that command (its line in kUsage and the indented ones after it).
bool print_command_usage(const std::string& cmd) {
  const std::string usage = kUsage, head = "  y26 " + cmd + " ";
  std::string out;
  bool in = false;
  for (size_t pos = 0, end; pos < usage.size(); pos = end + 1) {
    end = usage.find('\n', pos);
    if (end == std::string::npos) end = usage.size();
    const std::string line = usage.substr(pos, end - pos);
    if (line.rfind("  y26 ", 0) == 0) in = line.rfind(head, 0) == 0;
    else if (line.rfind("      ", 0) != 0) in = false;
    if (in) out += line + "\n";
  }
  if (out.empty()) return false;
  std::printf(
      "usage:\n%s\nMODEL is an Ultralytics .pt checkpoint or a .safetensors file. See y26 --help for all commands.\n",
      out.c_str());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::printf(kUsage, y26::version());
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("y26 %s\n", y26::version());
    return 0;
  }
  const std::string cmd = argv[1];
  for (int i = 2; i < argc; ++i) {
    if ((std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) && print_command_usage(cmd)) return 0;
  }
  try {
    if (cmd == "info") return y26::app::run_info(argc, argv);
    if (cmd == "convert") return y26::app::run_convert(argc, argv);
    if (cmd == "detect") return y26::app::run_detect(argc, argv);
    if (cmd == "val") return y26::app::run_val(argc, argv);
    if (cmd == "plan") return y26::app::run_plan(argc, argv);
    if (cmd == "bench") return y26::app::run_bench(argc, argv);
    if (cmd == "env") return y26::app::run_env(argc, argv);
    throw y26::Error("'" + cmd + "' is not a y26 command (see y26 --help)");
  } catch (const y26::Error& e) {
    std::fprintf(stderr, "y26 %s: %s\n", cmd.c_str(), e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "y26 %s: out of memory\n", cmd.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "y26 %s: internal error: %s\n", cmd.c_str(), e.what());
    return 3;
  }
}
