// Audio extraction: the first audio stream of a file, decoded and resampled
// (libswresample) to mono signed 16-bit PCM at a chosen rate, the input the
// speech recognisers want.
//
// Files are opened by content through the same demuxer whitelist as
// ProbeMedia. Samples are streamed to a sink in chunks, so memory stays
// small whatever the length; ReadAudio16kMono collects them for short files.
// Ownership: the sink's buffer is only valid during the call.
// Thread-safety: both functions are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace cutroom::media {

// Receives consecutive samples; a non-OK Status stops the extraction and is
// returned by ExtractAudio (e.g. Cancelled).
using AudioSink = std::function<Status(const int16_t* samples, size_t count)>;

// Decodes the first audio stream, downmixes it to mono and resamples it to
// sample_rate (8000..192000). NotFound when the file has no audio stream (or
// is missing); NotSupported when its codec cannot be decoded; InvalidArgument
// for files that are not media or audio that is corrupt throughout; the
// sink's Status when it fails.
Status ExtractAudio(const std::string& path, int sample_rate, const AudioSink& sink);

// ExtractAudio at 16 kHz into memory. ResourceExhausted past 4 hours (use
// ExtractAudio for long files).
Result<std::vector<int16_t>> ReadAudio16kMono(const std::string& path);

}  // namespace cutroom::media
