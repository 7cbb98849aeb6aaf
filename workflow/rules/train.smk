# Stage 3: train each variant from its yaml (from scratch) with ultralytics -> best.pt, once
# per seed: run "w0.25" is the primary seed (exported, benchmarked), "w0.25-seed1" another.
# A distilled student ("w0.125-kd", train.distill) trains after its teacher, from its best.pt.


rule train:
    input:
        model=lambda wildcards: layout.model_yaml(RUNS[wildcards.run]["variant"]),
        data=layout.DATA_YAML,
        # a distilled student waits for its teacher's training (train.distill); others: nothing
        teacher=lambda wildcards: workflowcfg.teacher_of(
            VARIANTS[RUNS[wildcards.run]["variant"]]
        )
        or [],
    output:
        # ultralytics' run folder (weights/best.pt, results.csv, TensorBoard events, ...) is
        # complete when train_info.json appears; a failed training writes it with status
        # "failed" and the error, so that every other variant still reaches the report.
        layout.train_info(),
    log:
        "logs/train/{run}.log",
    conda:
        "../../envs/train.yaml"
    threads: config["train"]["threads"]
    resources:
        # one GPU per training: --resources gpu=N on a workstation; --gpus=1 via the slurm plugin
        gpu=0 if str(config["train"]["device"]).lower() in ("cpu", "mps") else 1,
    params:
        settings=run_param(
            lambda run, variant: workflowcfg.train_settings(
                config, variant, run["seed"]
            )
        ),
    script:
        "../scripts/train.py"
