using Dls.Compression.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>
/// A causal, local correction of a mask network's logits: a two-layer convolution over (frames × bins), shared by
/// every frequency, that reads the standardised input features and the network's own logits of the current and the
/// <c>frames − 1</c> previous frames around each bin and adds its output to the logit of that bin.
/// </summary>
/// <remarks>
/// Why: a recurrent mask network maps each frame to all 513 bins through a few hundred units, so the fine structure of
/// a voice it has not heard (harmonics 100–250 Hz apart, 6–16 bins at 15.6 Hz per bin) or the tonal lines of music
/// must be rebuilt from that bottleneck. The refiner sees each bin's neighbourhood directly; because its weights are
/// shared across frequency, every bin of every frame is a training example for it. Layer 1: 2 → channels, kernel
/// (frames × bins), ReLU; layer 2: channels → 1, kernel (1 × bins). Zero padding along frequency; along time the
/// previous frames come from the carried history (zeros before the first frame), so whole-sequence, chunked and
/// streamed processing give the same result.
/// </remarks>
internal sealed class MaskRefiner : nn.Module
{
    private readonly Conv2d conv_in;
    private readonly Conv2d conv_out;
    private readonly int _frames;
    private readonly int _bins;

    /// <param name="channels">Channels of the hidden layer.</param>
    /// <param name="frames">Frames the first layer reads: the current one and <c>frames − 1</c> before it.</param>
    /// <param name="kernelBins">Bins each layer reads around a bin (odd).</param>
    /// <param name="bins">Bins per frame of the mask.</param>
    public MaskRefiner(int channels, int frames, int kernelBins, int bins)
        : base(nameof(MaskRefiner))
    {
        _frames = frames;
        _bins = bins;
        // TorchSharp 0.107's Conv2d constructor leaves one stray (kernel-sized) tensor behind; this scope disposes it.
        // The module's own parameters are taken out of the scope before it closes.
        using var strays = NewDisposeScope();
        conv_in = nn.Conv2d(2, channels, (frames, kernelBins), padding: (0, kernelBins / 2));
        conv_out = nn.Conv2d(channels, 1, (1, kernelBins), padding: (0, kernelBins / 2));
        RegisterComponents();
        this.DetachStateFromDisposeScopes();
    }

    /// <summary>Width of the carried history: the features and logits of the last <c>frames − 1</c> frames.</summary>
    public int StateSize => (_frames - 1) * 2 * _bins;

    /// <summary>Adds the local correction to <paramref name="logits"/>.</summary>
    /// <param name="features">Standardised input features, shape (batch, frames, bins).</param>
    /// <param name="logits">The network's logits of the same frames, shape (batch, frames, bins).</param>
    /// <param name="history">The history returned by the previous call, shape (batch, <see cref="StateSize"/>), or null at the start.</param>
    /// <param name="nextHistory">The history after these frames, shape (batch, <see cref="StateSize"/>).</param>
    /// <returns>The refined logits, shape (batch, frames, bins).</returns>
    public Tensor Refine(Tensor features, Tensor logits, Tensor? history, out Tensor nextHistory)
    {
        long batch = logits.shape[0], frames = logits.shape[1];
        int past = _frames - 1;
        // (batch, 2, past, bins): features and logits of the frames before this call.
        Tensor previous = history is null
            ? zeros(batch, 2, past, _bins, dtype: logits.dtype, device: logits.device)
            : history.reshape(batch, 2, past, _bins);
        // (batch, 2, past + frames, bins) → conv_in (no padding in time) → (batch, channels, frames, bins)
        Tensor window = cat([previous, stack([features, logits], 1)], 2);
        nextHistory = window.narrow(2, frames, past).reshape(batch, StateSize);
        if (frames == 0)
        {
            return logits;
        }

        Tensor correction = conv_out.forward(nn.functional.relu(conv_in.forward(window)));
        // (batch, 1, frames, bins) → (batch, frames, bins)
        return logits.add(correction.squeeze(1), Scalars.One);
    }
}
