namespace Dls.Models.Denoising;

/// <summary>
/// Removes noise from speech with a mask network. Safe to call from many threads at once: every call gets exactly
/// what a serial call would. Input of any length is processed in bounded memory, block by block, with the same
/// result as processing the whole signal at once.
/// </summary>
public interface IDenoiser
{
    /// <summary>The sample rate the model works at, in Hz (input at other rates is resampled to it and back).</summary>
    int SampleRate { get; }

    /// <summary>The architecture of the loaded model (e.g. <c>"gru-mask"</c>).</summary>
    string Architecture { get; }

    /// <summary>Number of trainable parameters of the model.</summary>
    long ParameterCount { get; }

    /// <summary>Denoises mono samples.</summary>
    /// <param name="samples">Mono samples in [-1, 1] (at least one; all finite).</param>
    /// <param name="sampleRate">Their rate in Hz (&gt; 0).</param>
    /// <param name="cancellationToken">Checked between blocks of 65,536 samples (about 4 s at 16 kHz).</param>
    /// <returns>The denoised samples, as many as the input, at <paramref name="sampleRate"/>.</returns>
    /// <exception cref="ArgumentException">Empty input, a non-finite sample, or a rate ≤ 0.</exception>
    /// <exception cref="InvalidOperationException">The network's mask gives non-finite samples (an unbounded ReLU mask
    /// beyond float32's range, <see cref="MaskActivation.Relu"/>).</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    float[] Denoise(ReadOnlySpan<float> samples, int sampleRate, CancellationToken cancellationToken = default);

    /// <summary>
    /// Denoises a WAV file into another (16-bit PCM, at the input's rate). The output appears only when complete. The
    /// file is read, resampled, denoised and written block by block (memory bounded for any length, at any rate), with
    /// the samples <see cref="Denoise"/> gives for the whole loaded file; only an output that replaces the input itself is
    /// loaded whole first.
    /// </summary>
    /// <param name="inputPath">The noisy WAV file.</param>
    /// <param name="outputPath">Where to write the result (replaced if it exists).</param>
    /// <param name="cancellationToken">Checked between blocks; a cancelled call writes nothing.</param>
    /// <exception cref="FileNotFoundException">The input does not exist.</exception>
    /// <exception cref="InvalidDataException">The input is not a readable WAV file, holds no samples, or holds a
    /// non-finite sample (the message names the file and the frame).</exception>
    /// <exception cref="NotSupportedException">The output would exceed the 4 GiB a WAV file can hold, or the input's rate is
    /// above what the resampler takes to the model's or the output's rate (100,000 times either).</exception>
    /// <exception cref="InvalidOperationException">The network's mask gives non-finite samples (see <see cref="Denoise"/>);
    /// no file is written. Finite samples beyond [-1, 1] are clipped, as 16-bit PCM holds no more.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    void DenoiseFile(string inputPath, string outputPath, CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts a stream that accepts audio block by block at the model rate and returns denoised audio as soon as it
    /// is final, carrying the network state between blocks; the latency is below one window (1024 samples) for a
    /// causal network, plus 512 samples per frame of lookahead otherwise (<see cref="IStreamingDenoiser.MaxLatencySamples"/>).
    /// </summary>
    /// <returns>A new stream; dispose it when done.</returns>
    IStreamingDenoiser CreateStream();

    /// <summary>
    /// Starts a stream for blocks at <paramref name="sampleRate"/> (a sound card's 44.1 or 48 kHz, say): each block is
    /// resampled to the model's rate as it arrives, denoised and resampled back, so what comes out is at the same rate.
    /// The latency is the model-rate stream's plus the resampling filters' (<see cref="IStreamingDenoiser.MaxLatencySamples"/>
    /// gives the bound in samples at <paramref name="sampleRate"/>: 3,383 at 48 kHz for a causal network, 70 ms); at the
    /// model's rate this is <see cref="CreateStream()"/>. The output, once complete, is as long as the input and equals
    /// <see cref="Denoise"/> on the whole signal to float rounding.
    /// </summary>
    /// <param name="sampleRate">The rate of the blocks, in Hz.</param>
    /// <returns>A new stream; dispose it when done.</returns>
    /// <remarks>The default implementation, for implementations that stream only at their model's rate, wraps
    /// <see cref="CreateStream()"/> in the same resampling steps <see cref="Denoiser"/> uses: its output is the one
    /// <see cref="Denoiser"/>'s own streams give around the same model-rate stream, and the latency and accuracy figures
    /// above hold as far as that model-rate stream matches <see cref="Denoiser"/>'s. Its stream throws
    /// <see cref="InvalidOperationException"/> when the model-rate stream breaks its contract (more output than input
    /// before <see cref="IStreamingDenoiser.Complete"/>, another length after it), and on every call after a failed one.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The rate is not positive, or more than 100,000 times the model's
    /// (the resampler's limit).</exception>
    /// <exception cref="InvalidOperationException">Default implementation: <see cref="CreateStream()"/> returned null, a
    /// stream at another rate than <see cref="SampleRate"/> or with a negative latency, or <see cref="SampleRate"/> is not
    /// positive.</exception>
    IStreamingDenoiser CreateStream(int sampleRate) => sampleRate == SampleRate
        ? CreateStream()
        : ResampledStreamingDenoiser.Over(this, sampleRate);
}

/// <summary>Block-by-block denoising (see <see cref="IDenoiser.CreateStream()"/> and <see cref="IDenoiser.CreateStream(int)"/>).</summary>
public interface IStreamingDenoiser : IDisposable
{
    /// <summary>The rate the blocks must have, in Hz.</summary>
    int SampleRate { get; }

    /// <summary>The most input samples an output sample waits for: at the model's rate 1023 at n_fft 1024, hop 512 for a
    /// causal network, plus 512 per frame of lookahead; at another rate that, carried to the stream's rate, plus the lag
    /// of the resampling there and back.</summary>
    int MaxLatencySamples { get; }

    /// <summary>Total output samples returned so far.</summary>
    long SamplesOut { get; }

    /// <summary>Feeds the next block and returns the output samples that became final (possibly none).</summary>
    /// <param name="block">The next input samples (finite; may be empty).</param>
    /// <returns>The next output samples.</returns>
    float[] Process(ReadOnlySpan<float> block);

    /// <summary>Ends the input and returns the remaining output; afterwards the output is exactly as long as the input.</summary>
    /// <returns>The last output samples.</returns>
    float[] Complete();
}
