using static TorchSharp.torch;

namespace Dls.Models.Denoising;

/// <summary>
/// A network that maps a noisy STFT magnitude to a mask in [0, 1] of the same shape; the enhanced magnitude is
/// mask × noisy magnitude, recombined with the noisy phase. Every mask network is causal (frame <c>t</c> of the
/// mask depends only on frames ≤ <c>t</c>), which is what lets the denoiser process audio in chunks and streams
/// with results identical to whole-file processing.
/// </summary>
public interface IMaskNetwork
{
    /// <summary>The architecture name stored in checkpoints (e.g. <c>"fc-mask"</c>).</summary>
    string Architecture { get; }

    /// <summary>Number of frequency bins per frame (513 for a 1024-point FFT).</summary>
    int Bins { get; }

    /// <summary>Computes the mask for whole sequences.</summary>
    /// <param name="magnitude">Noisy magnitude, shape (batch, frames, bins), linear scale.</param>
    /// <returns>The mask, shape (batch, frames, bins), values in (0, 1).</returns>
    Tensor forward(Tensor magnitude);

    /// <summary>
    /// Computes the mask for the next frames of a sequence whose earlier frames were given in previous calls.
    /// Calling it on consecutive pieces with the returned state gives the same mask as one <see cref="forward"/> call.
    /// </summary>
    /// <param name="magnitude">Noisy magnitude of the next frames, shape (batch, frames, bins).</param>
    /// <param name="state">The state returned by the previous call, or <c>null</c> at the start.</param>
    /// <param name="nextState">The state after these frames (<c>null</c> for frame-wise networks); the caller owns it.</param>
    /// <returns>The mask of these frames, shape (batch, frames, bins).</returns>
    Tensor ForwardContinued(Tensor magnitude, Tensor? state, out Tensor? nextState);
}
