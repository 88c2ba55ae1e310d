#include "cli/sample_video.h"

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/subprocess.h"

namespace cutroom::cli {
namespace {

constexpr const char* kFootageDir = "/usr/share/doc/opencv-doc/examples/data/";
constexpr const char* kBoldFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
constexpr const char* kRegularFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
constexpr int kWidth = 1280, kHeight = 720, kFps = 25;
constexpr double kLeadS = 0.25;  // silence before each paragraph
constexpr double kTailS = 0.6;   // and after it, so a cut falls in a pause

enum class Picture { kSlide, kCartoon, kFacePhoto, kStreet };

struct Scene {
  Picture picture;
  const char* heading;  // slides only
  const char* body;     // slides only; lines split by \n
  const char* speech;
};

// The script: housekeeping around one self-contained story with stakes
// (setup, turn, resolution, lesson), the moment a person would clip.
const Scene kScenes[] = {
    {Picture::kSlide, "Company update", "December all-hands\nSlides shared after the call",
     "Good morning everyone, and thank you for joining this short update. Before we start, a couple of quick "
     "notes. The slides will be shared after the call, and please put your questions in the chat."},
    {Picture::kCartoon, "", "",
     "Now let me tell you about the worst night of our year. Last spring, our only backup server failed at "
     "two in the morning, three days before our biggest launch."},
    {Picture::kFacePhoto, "", "",
     "Forty thousand customer videos were on it, and there was no second copy. Instead of panicking, we split the "
     "work. One engineer rebuilt the server, while the rest of us copied the videos back from old laptops."},
    {Picture::kStreet, "", "",
     "By sunrise every video was back, and not a single customer noticed. The lesson is simple. A backup you have "
     "never restored is not really a backup. That is why we test a full restore every single Friday."},
    {Picture::kSlide, "Q3 in numbers", "12,000 hours of video processed\n4 minutes average render time",
     "Next, a few numbers for the quarter. We processed twelve thousand hours of video, and each clip took about "
     "four minutes to render."},
    {Picture::kSlide, "Thank you", "See you next week",
     "That is all for today. Thanks again for your time, and see you next week."},
};

// Seconds of audio in a PCM WAV file (flite writes 16-bit mono), from its
// fmt and data chunks.
Result<double> WavDuration(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto u32 = [&bytes](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) |
           static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 16 |
           static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3])) << 24;
  };
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) {
    return Status::Corruption(path + " is not a WAV file");
  }
  uint32_t byte_rate = 0;
  for (size_t at = 12; at + 8 <= bytes.size();) {
    uint32_t size = u32(at + 4);
    if (bytes.compare(at, 4, "fmt ") == 0 && at + 20 <= bytes.size()) byte_rate = u32(at + 16);
    if (bytes.compare(at, 4, "data") == 0) {
      if (byte_rate == 0) break;
      uint64_t data = std::min<uint64_t>(size, bytes.size() - at - 8);
      return static_cast<double>(data) / byte_rate;
    }
    at += 8 + size + (size & 1);
  }
  return Status::Corruption(path + " has no PCM data");
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

// Removes the work directory however MakeSampleVideo ends.
struct WorkDir {
  std::string path;
  ~WorkDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

// The filters that draw a slide's text; the text comes from files so no
// filtergraph escaping of the words is needed (the work directory's name
// is mkdtemp's: letters and digits only).
std::string SlideText(const Scene& scene, const std::string& dir, int index, Status* status) {
  if (!Exists(kBoldFont) || !Exists(kRegularFont)) return "";
  std::string heading = dir + "/heading-" + std::to_string(index) + ".txt";
  std::string body = dir + "/body-" + std::to_string(index) + ".txt";
  std::ofstream(heading, std::ios::binary) << scene.heading;
  std::ofstream b(body, std::ios::binary);
  b << scene.body;
  if (!b.flush()) {
    *status = Status::IOError("cannot write " + body);
    return "";
  }
  return ",drawtext=fontfile=" + std::string(kBoldFont) + ":textfile=" + heading +
         ":expansion=none:fontcolor=white:fontsize=84:x=(w-text_w)/2:y=h*0.30"
         ",drawtext=fontfile=" +
         kRegularFont + ":textfile=" + body +
         ":expansion=none:fontcolor=0xcbd5e1:fontsize=46:line_spacing=22:x=(w-text_w)/2:y=h*0.52";
}

}  // namespace

const std::vector<std::string>& SampleScript() {
  static const std::vector<std::string> script = [] {
    std::vector<std::string> s;
    for (const auto& scene : kScenes) s.emplace_back(scene.speech);
    return s;
  }();
  return script;
}

Result<std::string> MakeSampleVideo(const std::string& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Status::IOError("cannot create " + out_dir + ": " + ec.message());
  std::string tmpl = "/tmp/cutroom-sample-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Status::IOError("cannot create a work directory in /tmp");
  WorkDir work{tmpl};
  const std::string mp4 = out_dir + "/sample.mp4";
  const int n = static_cast<int>(std::size(kScenes));

  // Speech first: each scene lasts its paragraph plus the pauses around it.
  std::vector<std::string> wavs;
  std::vector<double> durations;
  for (int i = 0; i < n; ++i) {
    wavs.push_back(work.path + "/speech-" + std::to_string(i) + ".wav");
    CUTROOM_RETURN_IF_ERROR(RunProcess({"flite", "-voice", "rms", "-t", kScenes[i].speech, "-o", wavs.back()})
                                .WithContext("synthesising sample speech (flite; scripts/install-deps.sh installs it)"));
    CUTROOM_ASSIGN_OR_RETURN(double speech_s, WavDuration(wavs.back()));
    durations.push_back(kLeadS + speech_s + kTailS);
  }

  const std::string fps = std::to_string(kFps);
  const std::string size = std::to_string(kWidth) + "x" + std::to_string(kHeight);
  const std::string cover = "scale=" + std::to_string(kWidth) + ":" + std::to_string(kHeight) +
                            ":force_original_aspect_ratio=increase:flags=lanczos,crop=" + std::to_string(kWidth) +
                            ":" + std::to_string(kHeight);
  std::vector<std::string> args = {"ffmpeg", "-y", "-hide_banner", "-loglevel", "error"};
  std::string graph, concat;
  for (int i = 0; i < n; ++i) {
    const Scene& scene = kScenes[i];
    const std::string dur = Seconds(durations[i]);
    const std::string footage = std::string(kFootageDir) + (scene.picture == Picture::kCartoon     ? "Megamind.avi"
                                                            : scene.picture == Picture::kFacePhoto ? "messi5.jpg"
                                                                                                   : "vtest.avi");
    std::string prep;
    if (scene.picture == Picture::kSlide) {
      args.insert(args.end(), {"-f", "lavfi", "-t", dur, "-i", "color=c=0x1e293b:s=" + size + ":r=" + fps});
      Status written = Status::Ok();
      prep = "null" + SlideText(scene, work.path, i, &written);
      CUTROOM_RETURN_IF_ERROR(written);
    } else if (!Exists(footage)) {
      args.insert(args.end(), {"-f", "lavfi", "-t", dur, "-i", "testsrc2=s=" + size + ":r=" + fps});
      prep = "null";
    } else if (scene.picture == Picture::kFacePhoto) {
      // A slow push-in on the photo, so the face moves in the frame.
      args.insert(args.end(), {"-loop", "1", "-framerate", fps, "-t", dur, "-i", footage});
      prep = cover + ",zoompan=z='min(1+0.0015*on,1.3)':x='iw/2-(iw/zoom/2)':y='ih/3-(ih/zoom/3)':d=1:s=" + size +
             ":fps=" + fps;
    } else {
      // The cartoon is shorter than its scene: it loops.
      if (scene.picture == Picture::kCartoon) args.insert(args.end(), {"-stream_loop", "-1"});
      args.insert(args.end(), {"-t", dur, "-i", footage});
      prep = cover;
    }
    const std::string v = "[v" + std::to_string(i) + "]", a = "[a" + std::to_string(i) + "]";
    graph += "[" + std::to_string(i) + ":v]" + prep + ",fps=" + fps + ",setsar=1,format=yuv420p,trim=duration=" + dur +
             ",setpts=PTS-STARTPTS" + v + ";";
    // The paragraph after its lead-in, padded with silence to the scene's length.
    graph += "[" + std::to_string(n + i) + ":a]aresample=48000,adelay=" + std::to_string(int(kLeadS * 1000)) +
             ",apad,atrim=duration=" + dur + ",asetpts=PTS-STARTPTS" + a + ";";
    concat += v + a;
  }
  for (const auto& wav : wavs) args.insert(args.end(), {"-i", wav});
  graph += concat + "concat=n=" + std::to_string(n) + ":v=1:a=1[v][a]";
  args.insert(args.end(), {"-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-c:v", "libx264", "-preset",
                           "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", std::to_string(2 * kFps), "-c:a",
                           "aac", "-b:a", "128k", "-ac", "1", "-movflags", "+faststart", mp4});
  Status made = RunProcess(args).WithContext("encoding the sample video");
  if (!made.ok()) {
    std::filesystem::remove(mp4, ec);
    return made;
  }
  return mp4;
}

}  // namespace cutroom::cli
