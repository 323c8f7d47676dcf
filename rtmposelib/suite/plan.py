"""The suite's plan: which notebook runs make up a scale, and which runs each one needs first.

Order of the paper (Sec. 3, Fig. 3): at smoke / cpu scale the stand-in initialisation
(``pretrain_heatmap/standin``, replacing ImageNet weights) comes first; the SimCC* baseline runs start
from it, and so does the heatmap pre-training (``pretrain_heatmap/heatmap``), from which every later
roadmap step starts. At paper scale there is no stand-in (the ImageNet checkpoint, if given, is a
parameter). The sweeps (Tables 2, 3) reuse the roadmap's "+ 7x7 kernel" runs as their default point.
The model family (Fig. 1 / 5) trains each size with the final recipe from its own initialisation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rtmposelib.experiments.runs import PRETRAIN_RUN, STANDIN_RUN, SWEEP_BASE_STEP, needs_pretrain
from rtmposelib.roadmap import STEP_NAMES, for_step
from rtmposelib.suite.scales import get_scale


@dataclass(frozen=True)
class Entry:
    notebook: str                              # file stem in the notebooks folder
    run: str                                   # run name: results/<scale>/<notebook>/<run>
    parameters: dict[str, Any] = field(default_factory=dict)   # papermill parameters (JSON values)
    after: tuple[str, ...] = ()                # names ("notebook/run") of entries that must succeed first
    key_metric: str | None = None              # metrics.json key shown in the summary
    requires_success: bool = True              # False: runs once its dependencies finished, even if failed

    @property
    def name(self) -> str:
        return f"{self.notebook}/{self.run}"


def plan(scale: str, *, imagenet_backbone: str = "") -> list[Entry]:
    """The suite's notebook runs at ``scale``, with their dependencies.

    imagenet_backbone: an ImageNet CSPNeXt checkpoint for the runs the paper starts from ImageNet
    (used at paper scale only; the smaller scales use the stand-in run).
    """
    s = get_scale(scale)
    steps = s.roadmap_steps or STEP_NAMES
    entries: list[Entry] = []
    first: tuple[str, ...] = ()                     # what the runs "from ImageNet" wait for
    init = {"init_run": "", "imagenet_backbone": imagenet_backbone if s.name == "paper" else ""}
    if s.standin_images:
        standin = Entry("pretrain_heatmap", "standin", {"kind": "standin", "init_run": "", "imagenet_backbone": ""},
                        key_metric="AP")
        entries.append(standin)
        first = (standin.name,)
        init = {"init_run": STANDIN_RUN, "imagenet_backbone": ""}
    pre = Entry("pretrain_heatmap", "heatmap", {"kind": "pretrain", **init}, after=first, key_metric="AP")
    entries.append(pre)
    train_names: list[str] = []

    def train(run: str, step: str, seed: int, kernel: int = 0, tau: float = 0.0) -> None:
        later = needs_pretrain(step)
        params = {"step": step, "seed": seed, "kernel_size": kernel, "inv_temperature": tau,
                  "pretrain_run": PRETRAIN_RUN if later else "",
                  **({"init_run": "", "imagenet_backbone": ""} if later else init)}
        entries.append(Entry("train_step", run, params, after=(pre.name,) if later else first, key_metric="AP"))
        train_names.append(f"train_step/{run}")

    for step in steps:
        for seed in s.seeds:
            train(f"{step}-seed{seed}", step, seed)
    roadmap_runs = tuple(train_names)
    default_k, default_tau = for_step(SWEEP_BASE_STEP).model.final_kernel_size, for_step(SWEEP_BASE_STEP).loss.beta
    for seed in s.sweep_seeds:
        reuse = SWEEP_BASE_STEP in steps and seed in s.seeds
        for k in s.kernel_sizes:
            if not (reuse and k == default_k):
                train(f"kernel{k}-seed{seed}", SWEEP_BASE_STEP, seed, kernel=k)
        for tau in s.inv_temperatures:
            if not (reuse and tau == default_tau):
                train(f"tau{tau:g}-seed{seed}", SWEEP_BASE_STEP, seed, tau=tau)
    sweep_runs = tuple(n for n in train_names if n not in roadmap_runs)
    family_runs = _family(s, first, imagenet_backbone, entries)
    entries += [
        Entry("roadmap", "summary", {}, after=roadmap_runs, key_metric="final_ap"),
        Entry("sweeps", "summary", {}, after=roadmap_runs + sweep_runs, key_metric="best_kernel"),
        Entry("table1_complexity", "tables", {}, key_metric="presets"),
        Entry("eval_tables", "tables", {}, after=roadmap_runs, key_metric="AP_gt"),
        Entry("speed_tables", "tables", {}, key_metric="ort_ms_t"),
        Entry("speed_accuracy", "figures", {}, after=family_runs, key_metric="points"),
        Entry("pipeline_video", "demo", {}, after=roadmap_runs, key_metric="fps_total"),
    ]
    if s.name == "paper":               # the released checkpoints on the datasets on disk (trains nothing)
        entries.append(Entry("zoo_eval", "released", {}, key_metric="evaluated"))
    entries.append(Entry("explorer", "all", {}, after=tuple(e.name for e in entries), key_metric="runs",
                         requires_success=False))
    return entries


def _family(s, standin: tuple[str, ...], imagenet_backbone: str, entries: list[Entry]) -> tuple[str, ...]:
    """The model-size series (Fig. 1 / 5): each size of ``Scale.family_sizes`` (else ``model_sizes``)
    trains the final recipe (``train_size``) from its own initialisation -- at the scales with a
    stand-in, a stand-in run of that size, ``Scale.family_standin_epochs`` long (when that is 0 or the
    roadmap stand-in's length, the roadmap's size reuses the roadmap's stand-in); at paper
    scale ``imagenet_backbone`` with ``{size}`` replaced by the size when it holds that field, else
    the roadmap's checkpoint for the roadmap's size (m) only and random initialisation for the others.
    Appends the entries; returns the names of the ``train_size`` runs."""
    names = []
    epochs = s.family_standin_epochs if s.family_standin_epochs != s.standin_epochs else 0
    for size in s.family_sizes or s.model_sizes:
        params = {"size": size, "seed": s.seeds[0], "init_run": "", "imagenet_backbone": ""}
        after = standin
        if s.standin_images and size == s.model_size and not epochs:
            params["init_run"] = STANDIN_RUN
        elif s.standin_images:
            init = Entry("pretrain_heatmap", f"standin-{size}",
                         {"kind": "standin", "model_size": size, "epochs": epochs, "init_run": "",
                          "imagenet_backbone": ""}, key_metric="AP")
            entries.append(init)
            params["init_run"], after = f"pretrain_heatmap/standin-{size}", (init.name,)
        elif "{size}" in imagenet_backbone:
            params["imagenet_backbone"] = imagenet_backbone.replace("{size}", size)
        elif size == "m":
            params["imagenet_backbone"] = imagenet_backbone
        run = Entry("train_size", f"{size}-seed{s.seeds[0]}", params, after=after, key_metric="AP")
        entries.append(run)
        names.append(run.name)
    return tuple(names)
