#include "analysis/frames/keyframes.h"

#include <algorithm>
#include <cmath>

#include "media/av_util.h"

namespace cutroom::analysis {

Result<std::vector<double>> KeyframeTimes(const std::string& path) {
  CUTROOM_ASSIGN_OR_RETURN(media::FormatContextPtr fmt, media::OpenMedia(path));
  int rc = avformat_find_stream_info(fmt.get(), nullptr);
  if (rc < 0) return media::AvError(rc, "read stream info of " + path);
  int index = -1;
  for (unsigned i = 0; i < fmt->nb_streams; ++i) {
    const AVStream* st = fmt->streams[i];
    // The same choice as VideoDecoder: the first video stream that is not
    // cover art.
    if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) &&
        index < 0) {
      index = static_cast<int>(i);
    } else {
      fmt->streams[i]->discard = AVDISCARD_ALL;
    }
  }
  if (index < 0) return Status::InvalidArgument(path + " has no video stream");
  const AVStream* stream = fmt->streams[index];
  const double tb = av_q2d(stream->time_base);
  const int64_t start = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
  media::PacketPtr pkt(av_packet_alloc());
  if (!pkt) return Status::ResourceExhausted("out of memory");
  std::vector<double> times;
  while (true) {
    rc = av_read_frame(fmt.get(), pkt.get());
    if (rc == AVERROR_EOF) break;
    if (rc < 0) return media::AvError(rc, "read packets of " + path);
    if (pkt->stream_index == index && (pkt->flags & AV_PKT_FLAG_KEY) && !(pkt->flags & AV_PKT_FLAG_DISCARD)) {
      int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
      if (ts != AV_NOPTS_VALUE) times.push_back(std::max(0.0, static_cast<double>(ts - start) * tb));
    }
    av_packet_unref(pkt.get());
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  return times;
}

std::vector<double> ThinEvenly(const std::vector<double>& times, size_t max_count) {
  if (times.size() <= max_count) return times;
  if (max_count == 0) return {};
  if (max_count == 1) return {times.front()};
  std::vector<double> out;
  out.reserve(max_count);
  const double step = static_cast<double>(times.size() - 1) / static_cast<double>(max_count - 1);
  for (size_t i = 0; i < max_count; ++i) {
    size_t k = std::min(times.size() - 1, static_cast<size_t>(std::llround(static_cast<double>(i) * step)));
    if (out.empty() || times[k] != out.back()) out.push_back(times[k]);
  }
  return out;
}

}  // namespace cutroom::analysis
