// VideoDbClient: VideoDB's REST API (https://api.videodb.io), spoken the
// way its official SDKs speak it, for the hosted "videodb" engines
// (transcripts, scenes, search).
//
// Every request carries the key in `x-access-token`. Answers are envelopes
// {"success", "data", "message"}; the client returns `data`. A long task
// answers {"status": "processing", "data": {"output_url"}} instead, and the
// client polls output_url (first after options.poll_ms, doubling up to 10 s)
// until the task is done or options.wait_s has passed; a finished poll
// answers the same envelope, sometimes wrapped in {"response": ...}.
//
// Endpoints used, each checked against the SDK files named (videodb-python
// `videodb/...`, videodb-node `src/...`):
//   GET  collection/{c}/upload_url?name=   -> data.upload_url
//        python _upload.py (upload, upload_bytes); node utils/upload.ts (getUploadUrl)
//   POST {upload_url} multipart, field "file" (no key: it is a signed URL)
//        python _upload.py (requests.post(upload_url, files={"file": ...}))
//   POST collection/{c}/upload {url, name, media_type} -> data = video {id, length, ...}
//        (usually async) python _upload.py, collection.py; node utils/upload.ts, utils/job.ts (UploadJob)
//   POST video/{id}/index {index_type: "spoken_word", language_code, segmentation_type: "sentence", force}
//        python video.py (index_spoken_words), _constants.py (IndexType.spoken_word);
//        node core/video.ts (indexSpokenWords)
//   GET  video/{id}/transcription?segmenter=word&length=1&force=false
//        -> data {word_timestamps: [{start, end, text|word}], text}
//        python video.py (_fetch_transcript); node core/video.ts (getTranscript),
//        types/response.ts (TranscriptResponse)
//   POST video/{id}/scenes {extraction_type: "shot"|"time", extraction_config, force}
//        -> data.scene_collection {scene_collection_id, config, scenes: [{scene_id, start, end, description,
//           frames: [{frame_id, url, frame_time, description}]}]}
//        python video.py (extract_scenes, _format_scene_collection), _constants.py (SceneExtractionType);
//        node core/video.ts (extractScenes, _formatSceneCollectionData)
//   POST video/{id}/index/scene {extraction_type, extraction_config, prompt, name} -> data.scene_index_id
//   GET  video/{id}/index/scene/{scene_index_id} -> data.scene_index_records [{start, end, description}]
//        python video.py (index_scenes, get_scene_index); node core/video.ts (indexScenes, getSceneIndex)
//   POST video/{id}/search {query, search_type, index_type, result_threshold, score_threshold, scene_index_id}
//        -> data.results [{video_id, collection_id, length, title, docs: [{start, end, text, score}]}]
//        python video.py (legacy_search), search.py (SearchResult._format_results);
//        node core/search/index.ts, types/response.ts (SearchResponse)
//   DELETE video/{id}
//        python video.py (delete); node core/video.ts (delete)
//   GET  {output_url} -> {status: "processing"|"in progress"|..., response?: envelope} or the envelope
//        python _utils/_http_client.py (_parse_response, _get_output); node utils/job.ts (_initiateBackoff)
//
// Errors carry a stable code as the first word of the message, so that the
// API (api_error.cc) and job records say what went wrong:
//   videodb_not_configured (FailedPrecondition)  no key in the variable videodb.api_key_env names
//   videodb_unauthorized   (Unauthenticated)     HTTP 401: the key was refused
//   videodb_quota          (ResourceExhausted)   HTTP 402, or a refusal that speaks of quota, credits or limits
//   videodb_unavailable    (Unavailable)         network errors, timeouts, 429 and 5xx after max_attempts tries
//                                                with exponential backoff (Retry-After honoured); the last reason
//   videodb_timeout        (Unavailable)         an async task still processing after wait_s
//   videodb_failed         (FailedPrecondition)  VideoDB finished a task unsuccessfully
//   videodb_refused        (InvalidArgument)     any other refusal (4xx or success: false), with its message
//   videodb_bad_reply      (Corruption)          an answer that is not the envelope
// The key is never part of a message. It is sent to output_url only when
// output_url has the base URL's scheme, host and port.
// Thread-safety: a client is immutable; concurrent requests are fine.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/env.h"
#include "core/result.h"

namespace cutroom::ai {

inline constexpr const char* kVideoDbDefaultBaseUrl = "https://api.videodb.io";

struct VideoDbOptions {
  std::string base_url = kVideoDbDefaultBaseUrl;
  std::string api_key;
  std::string api_key_env = "VIDEO_DB_API_KEY";  // named in messages only
  std::string collection = "default";
  long timeout_s = 60;         // one request (a file upload gets ten times this)
  int max_attempts = 4;        // tries per request, the first included
  int64_t poll_ms = 2000;      // first wait between polls and before a retry; doubles up to 10 s
  int64_t wait_s = 1800;       // longest wait for one async task
  Env* env = nullptr;          // clock and sleep; null: Env::Default()
};

// A video as VideoDB describes it.
struct VideoDbVideo {
  std::string id;  // "m-..."
  double length_s = 0;
  nlohmann::json raw;
};

struct VideoDbWord {
  std::string text;
  double start_s = 0;
  double end_s = 0;
};

struct VideoDbHit {
  std::string video_id;  // VideoDB's id
  double start_s = 0;
  double end_s = 0;
  std::string text;
  double score = 0;
};

class VideoDbClient {
 public:
  explicit VideoDbClient(VideoDbOptions options);

  // From videodb.base_url, videodb.collection, videodb.timeout_s,
  // videodb.max_attempts, videodb.poll_ms, videodb.wait_s and the variable
  // named by videodb.api_key_env. FailedPrecondition (videodb_not_configured,
  // naming the settings) when that variable is unset or empty.
  static Result<VideoDbClient> FromConfig(const Config& config);
  // Whether FromConfig would succeed.
  static bool Configured(const Config& config);
  // "videodb_not_configured: ..." naming the settings to set.
  static std::string NotConfiguredMessage(const Config& config);

  // Asks for a signed URL, POSTs the file there as multipart ("file"), then
  // registers it in the collection and waits for VideoDB to take it.
  Result<VideoDbVideo> UploadFile(const std::string& path, const std::string& name) const;
  // VideoDB downloads the media from url itself.
  Result<VideoDbVideo> UploadUrl(const std::string& url, const std::string& name) const;

  // Transcribes and indexes the spoken words (once: "already exists" is OK).
  Status IndexSpokenWords(const std::string& video_id, const std::string& language_code) const;
  // The transcript word by word; `text` is the whole transcript.
  Result<std::vector<VideoDbWord>> GetTranscript(const std::string& video_id, std::string* text = nullptr) const;

  // POST video/{id}/scenes; returns data.scene_collection.
  Result<nlohmann::json> ExtractScenes(const std::string& video_id, const std::string& extraction_type,
                                       const nlohmann::json& extraction_config) const;
  // POST video/{id}/index/scene; returns the scene index id.
  Result<std::string> IndexScenes(const std::string& video_id, const std::string& extraction_type,
                                  const nlohmann::json& extraction_config, const std::string& prompt,
                                  const std::string& name) const;
  // GET video/{id}/index/scene/{index}; returns data.scene_index_records.
  Result<nlohmann::json> GetSceneIndex(const std::string& video_id, const std::string& scene_index_id) const;

  // search_type "semantic" or "keyword"; index_type "spoken_word" or "scene".
  // A video without that index answers NotFound-free: VideoDB's refusal
  // (videodb_refused) with its message.
  Result<std::vector<VideoDbHit>> Search(const std::string& video_id, const std::string& query,
                                         const std::string& search_type, const std::string& index_type,
                                         int result_threshold, const std::string& scene_index_id = "") const;

  Status DeleteVideo(const std::string& video_id) const;

  const VideoDbOptions& options() const { return options_; }

  // The envelope layer, public for tests: `data` of a finished answer.
  // method: GET, POST, DELETE; path relative to base_url ("video/m-1/index");
  // query already encoded ("a=1&b=2") or empty.
  Result<nlohmann::json> Call(const std::string& method, const std::string& path, const std::string& query,
                              const nlohmann::json* body, const std::string& what) const;

 private:
  struct Reply;
  Result<Reply> Send(const std::string& method, const std::string& url, const nlohmann::json* body,
                     const std::string* file_path, const std::string& file_name, bool with_key,
                     const std::string& what) const;
  Result<nlohmann::json> Unwrap(const nlohmann::json& envelope, const std::string& what) const;
  Result<nlohmann::json> Poll(const std::string& output_url, const std::string& what) const;
  Result<VideoDbVideo> Register(const std::string& url, const std::string& name) const;
  Env* env() const;

  VideoDbOptions options_;
};

// The VideoDB error code a status carries ("videodb_quota"), or "" for a
// status that did not come from VideoDB.
std::string VideoDbErrorCode(const Status& status);

// The HTTP status the API answers for a VideoDB error code: 422
// not_configured, 402 quota, 409 not_indexed (search), 503 unavailable,
// 504 timeout, 502 for the rest. A key VideoDB refuses is 502 with the code
// videodb_unauthorized, not 401: a 401 from cutroom means the caller's own
// key is wrong (the web UI would ask for it again).
int VideoDbHttpStatus(const std::string& code);

}  // namespace cutroom::ai
