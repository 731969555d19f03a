"""The workflow's pieces without Snakemake: sample sheet, config, commands, summary, init.

Each bad sheet or config must give one line naming the file (and line) and the fix; the
commands are checked as argument lists; the summary against hand-made step outputs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seq2exp_cli.errors import Seq2ExpError
from seq2exp_cli.workflow import INIT_FILES, init_workflow
from seq2exp_cli.workflow import commands as C
from seq2exp_cli.workflow.config import DEFAULTS, load_config
from seq2exp_cli.workflow.samples import bundled_model_dir, read_samples
from seq2exp_cli.workflow.summary import SampleResults, summarize

HEAD = "sample\tfasta\tgenes\tdnase\th3k27ac\thic\ttargets\tmodel"


@pytest.fixture
def files(tmp_path):
    for name in ("g.fa", "genes.tsv", "d.bw", "h.bw", "c.hic", "t.tsv", "truth.bed"):
        (tmp_path / name).write_text("x\n")
    return tmp_path


def _sheet(d: Path, *rows: str, head: str = HEAD) -> Path:
    p = d / "samples.tsv"
    p.write_text("\n".join([head, *rows]) + "\n")
    return p


def test_good_sheet_relative_paths_and_optional_columns(files):
    p = _sheet(files, "# a comment line", "A\tg.fa\tgenes.tsv\td.bw\th.bw\tc.hic\tt.tsv\tbundled\t",
               "B\tg.fa\tgenes.tsv\td.bw\t-\tNA\tt.tsv\ttrain\ttruth.bed\t2",
               head=HEAD + "\ttruth\tgpus")
    a, b = read_samples(p)
    assert (a.name, a.model, a.gpus, a.truth) == ("A", "bundled", 0, None)
    assert a.fasta == files / "g.fa" and a.hic == files / "c.hic"
    assert a.model_dir == bundled_model_dir() and (a.model_dir / "model.safetensors").exists()
    assert (b.model, b.model_dir, b.h3k27ac, b.hic, b.gpus, b.trains) == (
        "train", None, None, None, 2, True)
    assert b.truth == files / "truth.bed" and b.line == 4
    assert list(b.tracks()) == ["dnase"]


def test_bundled_model_dir_is_what_predict_finds():
    from seq2exp_cli.models.checkpoint import bundled_weights

    assert bundled_model_dir() == bundled_weights()


ROW = "A\tg.fa\tgenes.tsv\td.bw\th.bw\tc.hic\tt.tsv\tbundled"


@pytest.mark.parametrize("head,rows,needle", [
    (HEAD.replace("\tmodel", ""), [ROW.rsplit("\t", 1)[0]], "line 1: missing column 'model'"),
    (HEAD + "\tmodle", [ROW + "\tx"], "line 1: unknown column 'modle'"),
    (HEAD, [], "no samples below the header"),
    (HEAD, [ROW, ROW], "line 3: sample 'A' already on line 2"),
    (HEAD, [ROW.replace("A\t", "A B\t", 1)], "line 2: sample name 'A B' is not usable"),
    (HEAD, [ROW.replace("d.bw", "nope.bw")], "line 2: dnase 'nope.bw' not found"),
    (HEAD, [ROW + "\textra"], "line 2: 9 tab-separated fields, the header has 8"),
    (HEAD, [ROW.replace("g.fa", "-")], "line 2: the fasta column is empty"),
    (HEAD, [ROW.replace("d.bw\th.bw", "-\t-")], "line 2: neither dnase nor h3k27ac given"),
    (HEAD, [ROW.replace("bundled", "my_run")], "line 2: model 'my_run' not found"),
    (HEAD, [ROW.replace("bundled", "genes.tsv")],
     "line 2: model 'genes.tsv' is not a seq2exp model"),
    (HEAD, [ROW.replace("t.tsv\tbundled", "-\ttrain")], "line 2: model 'train' needs targets"),
    (HEAD, [ROW.replace("h.bw", "-")], "line 2: model 'bundled' reads the h3k27ac track"),
    (HEAD + "\tgpus", [ROW.replace("bundled", "train") + "\ttwo"], "line 2: gpus 'two' is not"),
    (HEAD + "\tgpus", [ROW + "\t1"], "line 2: gpus is 1 but model is 'bundled'"),
])
def test_bad_sheet_is_one_line_naming_the_line(files, head, rows, needle):
    p = _sheet(files, *rows, head=head)
    with pytest.raises(Seq2ExpError) as exc:
        read_samples(p)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(p)) and needle in msg, msg


def test_missing_sheet(tmp_path):
    with pytest.raises(Seq2ExpError, match="sample sheet not found; write one with"):
        read_samples(tmp_path / "none.tsv")


def test_config_defaults_and_checks():
    cfg = load_config({})
    assert cfg == {**DEFAULTS, "train": dict(DEFAULTS["train"])}
    cfg = load_config({"shards": 4, "call_links": "false", "train": {"steps": 5}})
    assert cfg["shards"] == 4 and cfg["call_links"] is False
    assert cfg["train"] == {**DEFAULTS["train"], "steps": 5}
    for bad, needle in [({"shard": 2}, "unknown key 'shard'"),
                        ({"shards": 0}, "shards: '0' is not a whole number >= 1"),
                        ({"shards": True}, "shards: 'True'"),
                        ({"call_links": "maybe"}, "call_links: 'maybe' is not auto"),
                        ({"train": {"step": 5}}, "unknown key 'train.step'"),
                        ({"train": 5}, "train: expected a mapping"),
                        ({"train": {"steps": "many"}}, "train.steps: 'many'"),
                        ({"device": "tpu"}, "device: 'tpu'"),
                        ({"train": {"args": "--set 'a=b"}}, "train.args: cannot split")]:
        with pytest.raises(Seq2ExpError, match="^config.yaml: ") as exc:
            load_config(bad)
        assert needle in str(exc.value)


def test_template_config_is_the_defaults():
    yaml = pytest.importorskip("yaml")
    from seq2exp_cli.workflow import _FILES

    assert yaml.safe_load((_FILES / "config.yaml").read_text()) == DEFAULTS


def test_train_command_cpu_gpu_torchrun(files):
    p = _sheet(files, ROW.replace("bundled", "train") + "\t0",
               ROW.replace("A\t", "B\t", 1).replace("bundled", "train") + "\t1",
               ROW.replace("A\t", "C\t", 1).replace("bundled", "train") + "\t4",
               head=HEAD + "\tgpus")
    a, b, c = read_samples(p)
    cfg = load_config({"train": {"steps": 5, "args": "--set lr=0.001"}})
    py = [sys.executable, "-m", "seq2exp_cli"]
    tail = ["train", "st", "--preset", "cpu-hard", "--steps", "5"]
    assert C.train(a, "st", cfg) == [*py, *tail, "--device", "cpu", "--set", "lr=0.001"]
    assert C.train(b, "st", cfg) == [*py, *tail, "--device", "cuda", "--set", "lr=0.001"]
    assert C.train(c, "st", cfg) == [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "4",
        "-m", "seq2exp_cli", *tail, "--device", "cuda", "--set", "lr=0.001"]


def test_compare_peaks_uses_given_peaks_else_macs3(files):
    (files / "p.narrowPeak").write_text("x\n")
    p = _sheet(files, ROW + "\t-", ROW.replace("A\t", "B\t", 1) + "\tp.narrowPeak",
               head=HEAD + "\tpeaks")
    a, b = read_samples(p)
    cfg = load_config({})
    ca = C.compare_peaks(a, "e.bed", "st", cfg, "out", None)
    cb = C.compare_peaks(b, "e.bed", "st", cfg, "out", None)
    assert ca[ca.index("--call-peaks"):][:3] == ["--call-peaks", "--dnase", str(files / "d.bw")]
    assert "--peaks" in cb and str(files / "p.narrowPeak") in cb and "--call-peaks" not in cb


def test_has_command():
    assert C.has_command("predict")
    assert not C.has_command("no-such-command")


FAKE_TRAIN = """
import sys, pathlib, json
args = sys.argv[1:]
out = pathlib.Path(args[args.index("-o") + 1])
log = pathlib.Path(sys.argv[0]).with_suffix(".calls")
with open(log, "a") as fh:
    fh.write(json.dumps(args) + "\\n")
out.mkdir(exist_ok=True)
(out / "last").mkdir(exist_ok=True)
if not (out / "attempt1").exists():
    (out / "attempt1").write_text("x")
    sys.exit(1)          # the first attempt dies after its first checkpoint
(out / "best").mkdir()
"""


def test_train_into_resumes_a_killed_run_and_appears_whole(tmp_path):
    import json

    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAIN)
    store = tmp_path / "store"
    store.mkdir()
    (store / "manifest.json").write_text('{"v": 1}')
    out = tmp_path / "res" / "run"
    out.parent.mkdir()
    cmd = [sys.executable, str(script)]

    def calls():
        return [json.loads(x) for x in script.with_suffix(".calls").read_text().splitlines()]

    with pytest.raises(subprocess.CalledProcessError):  # dies after a checkpoint
        C.train_into(cmd, store, out, tmp_path / "train.log")
    assert not out.exists()
    (old,) = out.parent.glob(".run.*.partial")
    # the store was rebuilt: its checkpoint must not be resumed, and is removed
    (store / "manifest.json").write_text('{"v": 2}')
    with pytest.raises(subprocess.CalledProcessError):
        C.train_into(cmd, store, out, tmp_path / "train.log")
    assert "--resume" not in calls()[1] and not old.exists() and not out.exists()
    # rerun with nothing changed: continues the same work folder, then moves it into place
    C.train_into(cmd, store, out, tmp_path / "train.log")
    assert calls()[2][-1] == "--resume"
    assert (out / "best").is_dir() and (out / "attempt1").exists()
    assert not list(out.parent.glob(".run.*.partial"))
    assert "$ " in (tmp_path / "train.log").read_text()


def test_summary_from_hand_made_outputs(tmp_path):
    (tmp_path / "p.tsv").write_text("gene_id\tname\tchrom\ttss\tstrand\tprediction\ttarget\n"
                                    "g1\ta\tchr1\t5\t+\t1.5\t1.0\ng2\tb\tchr1\t9\t-\t0.5\tNA\n")
    (tmp_path / "e.bed").write_text("#chrom\tstart\tend\tname\nchr1\t0\t100\ta\nchr1\t50\t70\tb\n")
    (tmp_path / "ev.tsv").write_text("split\tn\tmse\tmae\tpearson\tspearman\tr2\n"
                                     "test\t1\t0.25\t0.5\t0.9\t1\t0.1\n"
                                     "all\t1\t0.2\t0.4\t0.8\t1\t0.2\n")
    (tmp_path / "c.tsv").write_text(
        "method\tmetric\tvalue\tscope\tsection\n"
        "seq2exp\tcoverage\t0.1\toverall\tx\nMACS3\tcoverage\t0.2\toverall\tx\n"
        "seq2exp\tcoverage\t0.7\tg1\tx\nseq2exp vs MACS3\tbp_jaccard\t0.3\toverall\tx\n")
    res = [SampleResults("S1", "bundled", tmp_path / "p.tsv", tmp_path / "e.bed",
                         tmp_path / "ev.tsv", tmp_path / "c.tsv"),
           SampleResults("S2", "trained", tmp_path / "p.tsv", tmp_path / "e.bed")]
    df = summarize(res, tmp_path / "s.tsv", tmp_path / "s.md")
    assert (tmp_path / "s.tsv").read_text().splitlines() == [
        "sample\tmodel\tgenes\tgenes_with_target\ttest_pearson\ttest_mse\tall_pearson\telements\t"
        "element_bp\tcoverage\tpeaks\tpeak_coverage\tbp_jaccard\tbp_auprc\tpeak_bp_auprc\tlinks",
        "S1\tbundled\t2\t1\t0.9\t0.25\t0.8\t2\t120\t0.1\tMACS3\t0.2\t0.3\tNA\tNA\tNA",
        "S2\ttrained\t2\t1\tNA\tNA\tNA\t2\t120\tNA\tNA\tNA\tNA\tNA\tNA\tNA"]
    md = (tmp_path / "s.md").read_text()
    assert ("| S1 | bundled | 2 | 1 | 0.9 | 0.25 | 0.8 | 2 | 120 | 0.1 | MACS3 | 0.2 | 0.3 | – |"
            in md)
    assert len(df) == 2


def test_init_writes_files_and_refuses_to_overwrite(tmp_path):
    written = init_workflow(tmp_path / "wf")
    assert [p.relative_to(tmp_path / "wf").as_posix() for p in written] == list(INIT_FILES)
    with pytest.raises(Seq2ExpError, match="config.yaml: exists; pass --force"):
        init_workflow(tmp_path / "wf")
    (tmp_path / "wf" / "config.yaml").write_text("edited")
    init_workflow(tmp_path / "wf", force=True)
    assert (tmp_path / "wf" / "config.yaml").read_text() != "edited"
    r = subprocess.run([sys.executable, "-m", "seq2exp_cli", "workflow", "init",
                        str(tmp_path / "wf")], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "exists; pass --force" in r.stderr
    # the template sheet has only comments below the header: a clear error, not a crash
    with pytest.raises(Seq2ExpError, match="no samples below the header"):
        read_samples(tmp_path / "wf" / "samples.tsv")


def test_links_only_for_models_that_score_them(files, tmp_path):
    import json
    import shutil

    add = tmp_path / "additive"
    shutil.copytree(bundled_model_dir(), add)
    cfg = json.loads((add / "config.json").read_text())
    cfg["model_config"]["readout"] = "additive"
    (add / "config.json").write_text(json.dumps(cfg))
    p = _sheet(files, ROW, ROW.replace("A\t", "B\t", 1).replace("bundled", str(add)),
               ROW.replace("A\t", "C\t", 1).replace("bundled", "train"))
    a, b, c = read_samples(p)
    assert [C.makes_links(s) for s in (a, b, c)] == [a.readout == "additive", True, True]
    cmd = C.call_links(b, "st", str(b.model_dir), load_config({}), "l.tsv", "l.bedpe")
    assert cmd[cmd.index("--cell-type") + 1] == "B"
    assert cmd[-4:] == ["-o", "l.tsv", "--bedpe", "l.bedpe"]
