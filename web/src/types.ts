// Shapes of the API's JSON (see /work/shared/DESIGN.md); only the fields the UI reads.

export interface Video {
  video_id: string;
  media_type: 'video' | 'audio' | 'image' | null;
  source_type: string;
  source_url: string | null;
  status: string;
  title: string | null;
  original_filename: string | null;
  mime_type: string | null;
  size_bytes: number | null;
  duration_s: number | null;
  width: number | null;
  height: number | null;
  fps: number | null;
  error: string | null;
  created_at: string;
}

export interface Job {
  job_id: string;
  kind: string;
  video_id: string | null;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: number;
  attempts: number;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface Word {
  word: string;
  start_s: number;
  end_s: number;
  confidence: number;
}
export interface Segment {
  start_s: number;
  end_s: number;
  text: string;
  words: Word[];
}
export interface Transcript {
  video_id: string;
  engine: string;
  model: string | null;
  language: string | null;
  text: string;
  segments: Segment[];
  note?: string;
}

export interface Scene {
  scene_no: number;
  start_s: number;
  end_s: number;
  transition: string;
  score: number | null;
  keyframe_url: string | null;
  description: string | null;
}
export interface Scenes {
  scenes: Scene[];
  transitions: { type: string; start_s: number; end_s: number }[];
}

export interface Frame {
  frame_id: string;
  ts_s: number;
  image_url: string;
  width: number;
  height: number;
  features: { brightness?: number; sharpness?: number; motion?: number | null; faces?: { count: number } };
  ocr_text: string | null;
  description: string | null;
}

export interface Clip {
  clip_id: string;
  start_s: number;
  end_s: number;
  duration_s: number;
  score: number;
  title: string | null;
  hook: string | null;
  reason: string | null;
  transcript_excerpt: string | null;
  features: Record<string, unknown> & { weights?: Record<string, number> };
  status: string;
}

export interface EditJob {
  edit_job_id: string;
  video_id: string;
  clip_id: string | null;
  status: string;
  spec: { aspect?: string; reframe?: string; ranges?: [number, number][]; output?: { width: number; height: number } };
  job_id: string | null;
  output_url: string | null;
  error: string | null;
  progress?: number;
  output?: { width: number | null; height: number | null; duration_s: number | null; size_bytes: number | null };
}

export interface Asset {
  asset_id: string;
  kind: string;
  url: string;
  width: number | null;
  height: number | null;
  metadata: Record<string, unknown>;
}

export interface DropPoint {
  t_s: number;
  end_s: number;
  peak_s: number;
  lost: number;
  reasons: string[];
}
export interface RetentionSide {
  curve: number[];
  drop_points: DropPoint[];
  summary: Record<string, number>;
  source: string;
}
export interface Retention {
  predicted: RetentionSide | null;
  imported: RetentionSide | null;
  agreement: Record<string, unknown> | null;
}

export interface PlanRange {
  start_s: number;
  end_s: number;
  speed?: number;
  because?: string;
}
export interface PlanOutput {
  name: string;
  ranges: PlanRange[];
  aspect?: string;
  reframe?: string;
  captions?: unknown;
  duration_s?: number;
}
export interface AiEditJob {
  ai_edit_job_id: string;
  video_id: string;
  instruction: string;
  status: string;
  planner: string | null;
  plan: { outputs?: PlanOutput[]; warnings?: string[] } | null;
  outputs: { name: string; duration_s: number; edit_job_id: string | null; status: string | null; output_url: string | null }[];
  warnings: string[] | null;
  error: string | null;
  job_id: string | null;
}

export interface SearchHit {
  video_id: string;
  source: string;
  start_s: number;
  end_s: number;
  text: string;
  snippet?: string;
  score: number;
}

export interface LogLine {
  log_id: string;
  job_id: string | null;
  stage: string | null;
  level: string;
  message: string;
  ts: string;
}
