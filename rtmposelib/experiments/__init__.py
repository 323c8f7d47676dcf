"""The workflows the notebooks call, one per cell.

Thin compositions over the library, one concept per module:

* :mod:`~rtmposelib.experiments.runs` -- configs of the stand-in initialisation, the heatmap pre-training
  and the roadmap steps at a scale; train + evaluate one run (paper Sec. 3, Fig. 3).
* :mod:`~rtmposelib.experiments.launch` -- a run in process, or under torchrun on several GPUs.
* :mod:`~rtmposelib.experiments.summaries` -- Fig. 3 and Tables 2 / 3 from the run records (mean +- std).
* :mod:`~rtmposelib.experiments.tables` -- Tables 1, 4 / 5, 6, 8 / 9 beside the paper's values.
* :mod:`~rtmposelib.experiments.speed` -- Tables 11 / 12, Fig. 1 / Fig. 5 points.
* :mod:`~rtmposelib.experiments.family` -- the model family trained with the final recipe (Fig. 1 / Fig. 5).
* :mod:`~rtmposelib.experiments.demo` -- the video pipeline of Sec. 3.5.

Notebooks use ``from rtmposelib import experiments`` and the names re-exported here.
"""
from rtmposelib.experiments.demo import (
    annotated_frame,
    demo_metrics,
    jitter_frame,
    pipeline_demo,
    posetrack_clip,
    write_synth_clip,
)
from rtmposelib.experiments.family import (
    FAMILY_STEP,
    family_sizes,
    size_config,
    size_metrics,
    size_standin_config,
    with_model_size,
)
from rtmposelib.experiments.launch import gpu_count, torchrun_command
from rtmposelib.experiments.runs import (
    COCO_STATS,
    PRETRAIN_RUN,
    STANDIN_RUN,
    SWEEP_BASE_STEP,
    TrainEval,
    final_run_dir,
    load_trained,
    pretrain_config,
    run_checkpoint,
    standin_config,
    step_config,
    step_metrics,
    train_and_evaluate,
)
from rtmposelib.experiments.speed import (
    latency_frame,
    latency_metrics,
    pipeline_latency_frame,
    pipeline_latency_metrics,
    speed_accuracy_frame,
    speed_accuracy_metrics,
)
from rtmposelib.experiments.summaries import explore, roadmap_metrics, roadmap_summary, sweep_metrics, sweep_summary
from rtmposelib.experiments.tables import (
    complexity_frame,
    complexity_metrics,
    eval_metrics,
    eval_protocols_frame,
    gallery_figure,
    gallery_picks,
    paper_reference_tables,
    samples_frame,
    samples_metrics,
    shared_data_dir,
    table1_for_paper,
    table1_frame,
    val_predictions,
    wholebody_oracle_frame,
)

__all__ = [
    "COCO_STATS", "SWEEP_BASE_STEP", "PRETRAIN_RUN", "STANDIN_RUN", "TrainEval", "complexity_frame",
    "complexity_metrics", "demo_metrics", "eval_metrics", "eval_protocols_frame", "explore", "final_run_dir",
    "gpu_count", "latency_frame", "latency_metrics", "load_trained", "paper_reference_tables", "pipeline_demo",
    "pipeline_latency_frame", "pipeline_latency_metrics", "posetrack_clip", "samples_frame", "samples_metrics",
    "wholebody_oracle_frame", "annotated_frame", "jitter_frame", "FAMILY_STEP", "family_sizes", "size_config",
    "size_metrics", "size_standin_config", "with_model_size", "speed_accuracy_metrics", "gallery_figure",
    "gallery_picks", "val_predictions",
    "pretrain_config", "roadmap_metrics", "roadmap_summary", "run_checkpoint", "shared_data_dir",
    "speed_accuracy_frame", "standin_config", "step_config", "step_metrics", "sweep_metrics", "sweep_summary",
    "table1_for_paper", "table1_frame", "torchrun_command", "train_and_evaluate", "write_synth_clip",
]
