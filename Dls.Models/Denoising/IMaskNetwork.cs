using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>
/// A network that maps a noisy STFT magnitude to a non-negative mask of the same shape (in (0, 1) unless the
/// network's options allow a larger bound or an unbounded ReLU output, <see cref="MaskActivation"/>); the enhanced magnitude is
/// mask × noisy magnitude, recombined with the noisy phase. Every mask network is causal or has a bounded lookahead
/// (frame <c>t</c> of the mask depends only on frames ≤ <c>t + LookaheadFrames</c>), which is what lets the denoiser
/// process audio in chunks and streams with results identical to whole-file processing.
/// </summary>
public interface IMaskNetwork
{
    /// <summary>The architecture name stored in checkpoints (e.g. <c>"fc-mask"</c>).</summary>
    string Architecture { get; }

    /// <summary>Number of frequency bins per frame (513 for a 1024-point FFT).</summary>
    int Bins { get; }

    /// <summary>
    /// Frames of lookahead L: the mask of frame t depends on frames ≤ t + L (0 for a causal network). With L &gt; 0,
    /// <see cref="ForwardContinued"/> returns the masks of the frames L before the ones it is given, and
    /// <see cref="Flush"/> returns the last L masks at the end of the signal.
    /// </summary>
    int LookaheadFrames { get; }

    /// <summary>
    /// Ends a sequence processed with <see cref="ForwardContinued"/>: the masks of its last
    /// <see cref="LookaheadFrames"/> frames (none for a causal network).
    /// </summary>
    /// <param name="state">The state returned by the last <see cref="ForwardContinued"/> call.</param>
    /// <param name="batch">The batch size of the sequence (≥ 0).</param>
    /// <returns>Shape (batch, LookaheadFrames, bins).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is negative.</exception>
    /// <exception cref="ArgumentException">The state does not fit: wrong shape, or a dtype other than the network's parameters'.</exception>
    Tensor Flush(Tensor? state, long batch);

    /// <summary>Whether the network standardises its input per bin with statistics of training data.</summary>
    bool NormalizesInput { get; }

    /// <summary>Sets the per-bin input standardisation, before training (only when <see cref="NormalizesInput"/>).</summary>
    /// <param name="statistics">Statistics of the training inputs (<see cref="MaskFeatures.Measure"/>).</param>
    /// <exception cref="InvalidOperationException">The network does not normalise its input.</exception>
    /// <exception cref="ArgumentException">The statistics do not have <see cref="Bins"/> finite entries.</exception>
    void SetInputStatistics(FeatureStatistics statistics);

    /// <summary>Computes the mask for whole sequences.</summary>
    /// <param name="magnitude">Noisy magnitude, shape (batch, frames, bins), linear scale.</param>
    /// <returns>The mask, shape (batch, frames, bins), values in (0, MaskScale) — (0, 1) by default; ≥ 0 with a ReLU output.</returns>
    /// <exception cref="ArgumentException">The magnitude is not real float32 of shape (batch, frames, <see cref="Bins"/>).</exception>
    Tensor forward(Tensor magnitude);

    /// <summary>
    /// Computes the mask for the next frames of a sequence whose earlier frames were given in previous calls.
    /// Calling it on consecutive pieces with the returned state gives the same mask as one <see cref="forward"/> call.
    /// </summary>
    /// <param name="magnitude">Noisy magnitude of the next frames, shape (batch, frames, bins).</param>
    /// <param name="state">The state returned by the previous call, or <c>null</c> at the start.</param>
    /// <param name="nextState">The state after these frames (<c>null</c> for frame-wise networks); the caller owns it.</param>
    /// <returns>The mask of these frames, shape (batch, frames, bins).</returns>
    /// <exception cref="ArgumentException">
    /// The magnitude is not real float32 of shape (batch, frames, <see cref="Bins"/>), or the state does not fit
    /// (shape other than the previous call returned, or a dtype other than the network's parameters').
    /// </exception>
    Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState);
}
