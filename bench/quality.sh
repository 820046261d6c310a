#!/usr/bin/env bash
# Trains the same pix2pix the same way with p2p and with the PyTorch reference
# trainer (../shared/reference-pytorch, Debian's python3-torch on CPU), then
# scores both generators on the same held-out split with `deno task eval`
# (L1, PSNR, SSIM; paper and eval modes) and prints one table.
#
#   bash bench/quality.sh [--data DIR] [--size 128] [--epochs 3] [--epochs-decay 3] [--ngf 32] [--work DIR]
#
# Without --data it writes the embedded facades set (500 pairs: 400 train, 50
# val, 50 test) at --size. Both trainers get the reference's flags: unet_128
# (size 128) or unet_256 (size 256), load size round(size·286/256), flip,
# batch 1, Adam 2e-4 β1 0.5, λ_L1 100, n_epochs + n_epochs_decay.
set -euo pipefail
cd "$(dirname "$0")/.."
deno=(npx -y deno@2.9.6)
python=${P2P_PYTHON:-/usr/bin/python3}
ref=${P2P_REFERENCE:-../shared/reference-pytorch}
data="" size=128 epochs=3 decay=3 ngf=32 work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --epochs-decay) decay=$2; shift 2 ;;
    --ngf) ngf=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "quality.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
case "$size" in
  128) net=unet_128 ;;
  256) net=unet_256 ;;
  *) echo "quality.sh: --size must be 128 or 256 (the reference's U-Nets), received '$size'" >&2; exit 2 ;;
esac
"$python" -c 'import torch, torchvision, dominate' 2>/dev/null || {
  echo "quality.sh: $python cannot import torch, torchvision and dominate (apt-get install python3-torch python3-torchvision python3-dominate)" >&2
  exit 1
}
[ -f "$ref/train.py" ] || { echo "quality.sh: no reference trainer at $ref/train.py (set P2P_REFERENCE)" >&2; exit 1; }
work=${work:-$(mktemp -d /tmp/p2p-quality.XXXXXX)}
mkdir -p "$work"
load=$(( (size * 286 + 128) / 256 ))
if [ -z "$data" ]; then
  data=$work/facades$size
  [ -d "$data" ] || "${deno[@]}" task data --name facades --out "$data" --size "$size" --count 500 >/dev/null
fi
common=(--dataroot "$data" --name q --model pix2pix --direction AtoB --netG "$net" --load_size "$load"
  --crop_size "$size" --ngf "$ngf" --ndf "$ngf" --n_epochs "$epochs" --n_epochs_decay "$decay")

echo "quality: the reference trainer ($net, $epochs + $decay epochs) …" >&2
cp -r "$ref" "$work/reference" && chmod -R u+w "$work/reference"
start=$(date +%s)
(cd "$work/reference" && "$python" train.py "${common[@]}" --gpu_ids -1 --display_id 0 --no_html \
  --checkpoints_dir "$work/ref_ck" --save_epoch_freq $((epochs + decay)) >"$work/reference.log" 2>&1)
ref_s=$(( $(date +%s) - start ))
"${deno[@]}" task import --pth "$work/ref_ck/q/latest_net_G.pth" --net "$net" --out "$work/ref_p2p" --force >/dev/null 2>&1

echo "quality: p2p ($net, $epochs + $decay epochs) …" >&2
start=$(date +%s)
"${deno[@]}" task train "${common[@]}" --checkpoints_dir "$work/p2p_ck" --force >"$work/p2p.log" 2>&1
p2p_s=$(( $(date +%s) - start ))

score() { # checkpoint mode → "L1 PSNR SSIM"
  "${deno[@]}" task eval --checkpoint "$1" --data "$data" --mode "$2" --json "$work/eval_$3_$2.json" 2>/dev/null |
    awk '$1 == "mean" { print $2, $3, $4 }'
}
echo
echo "Held-out split test of $data: $net, ngf = ndf = $ngf, $epochs + $decay epochs, both trainers on this CPU."
echo
echo "| trainer | train time | mode | L1 ↓ | PSNR dB ↑ | SSIM ↑ |"
echo "|---|---|---|---|---|---|"
for mode in paper eval; do
  read -r l1 psnr ssim <<<"$(score "$work/ref_p2p" $mode ref)"
  echo "| PyTorch reference | ${ref_s} s | $mode | $l1 | $psnr | $ssim |"
  read -r l1 psnr ssim <<<"$(score "$work/p2p_ck/q/checkpoints/latest" $mode p2p)"
  echo "| p2p | ${p2p_s} s | $mode | $l1 | $psnr | $ssim |"
done
echo
echo "(logs and checkpoints in $work)"
