namespace Dls.Audio.Resampling;

/// <summary>
/// Resamples a signal given a block at a time: <see cref="Push"/> the input in blocks of any size, then
/// <see cref="Complete"/>. The output is handed to the sink given at creation as soon as it is final, and is the output
/// of <see cref="Resampler.Process"/> on the whole signal, sample for sample and bit for bit.
/// </summary>
/// <remarks>
/// <para>Memory is bounded: the stream keeps one filter window of input (<see cref="Resampler.TapsPerOutputSample"/>,
/// rounded up to the SIMD width) plus one piece of at most 4,096 samples or one window, whatever the length of the signal
/// and the size of the blocks pushed (a large block is taken a piece at a time).</para>
/// <para>An output sample is final once every input sample its filter reads has arrived, so output lags the input by
/// about half a filter window; the rest comes with <see cref="Complete"/>, which takes the signal as zero past its end,
/// as the whole-signal call does, and brings the output to round(n × out / in) samples in all. Create streams with
/// <see cref="Resampler.CreateStream"/>; one stream is for one thread at a time.</para>
/// </remarks>
public sealed class ResamplingStream
{
    // Output is handed to the sink in runs of at most this many samples.
    private const int OutputChunk = 4096;

    private readonly Resampler _resampler;
    private readonly Action<ReadOnlySpan<float>> _sink;
    private readonly float[] _scratch;
    private readonly float[] _chunk;
    private readonly SampleWindow _input;   // input samples by index (zeros before index 0 and, at the end, after it)
    private long _next;                      // the next output sample to compute
    private bool _completed;

    internal ResamplingStream(Resampler resampler, Action<ReadOnlySpan<float>> sink)
    {
        _resampler = resampler;
        _sink = sink;
        _scratch = resampler.NewScratch();
        _chunk = new float[OutputChunk];
        // Output 0 reads from index K − 1 before the signal: those are zeros, as in the whole-signal call.
        long first = resampler.IsIdentity ? 0 : resampler.WindowStart(0);
        _input = new SampleWindow(first, (int)-first + resampler.WindowLength);
        _input.Append(new float[-first]);
    }

    /// <summary>Input samples pushed so far.</summary>
    public long SamplesIn { get; private set; }

    /// <summary>Output samples handed to the sink so far.</summary>
    public long SamplesOut => _next;

    /// <summary>Input samples kept now (for tests of the memory bound).</summary>
    internal int KeptSamples => _input.Count;

    /// <summary>Adds input samples; hands every output sample that is now final to the sink.</summary>
    /// <param name="input">The next input samples, at <see cref="Resampler.InputRate"/>.</param>
    /// <exception cref="InvalidOperationException"><see cref="Complete"/> was called.</exception>
    public void Push(ReadOnlySpan<float> input)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Complete() was already called; create a new stream for another signal.");
        }

        if (input.IsEmpty)
        {
            return;
        }

        if (_resampler.IsIdentity)
        {
            SamplesIn += input.Length;
            _next += input.Length;
            _sink(input);
            return;
        }

        // In pieces, so that what is kept stays one filter window plus one piece however large the block.
        int piece = Math.Max(OutputChunk, _resampler.WindowLength);
        while (!input.IsEmpty)
        {
            ReadOnlySpan<float> part = input[..Math.Min(piece, input.Length)];
            input = input[part.Length..];
            SamplesIn += part.Length;
            Append(part);
            // Only outputs that exist for any signal that starts with what has arrived (the final count grows with the input).
            Emit(Resampler.OutputLength(SamplesIn, _resampler.InputRate, _resampler.OutputRate));
        }
    }

    /// <summary>Ends the input: hands the remaining output (the signal taken as zero past its end) to the sink.</summary>
    /// <remarks>A second call does nothing.</remarks>
    public void Complete()
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        if (_resampler.IsIdentity)
        {
            return;
        }

        long total = Resampler.OutputLength(SamplesIn, _resampler.InputRate, _resampler.OutputRate);
        if (total > _next)
        {
            // Zeros up to the end of the last output's window.
            long end = _resampler.WindowStart(total - 1) + _resampler.WindowLength;
            long zeros = end - _input.End;
            Span<float> block = stackalloc float[256];
            block.Clear();
            for (; zeros > 0; zeros -= block.Length)
            {
                Append(block[..(int)Math.Min(zeros, block.Length)]);
                Emit(total);
            }

            Emit(total);
        }
    }

    private void Append(ReadOnlySpan<float> input)
    {
        _input.DiscardBefore(_resampler.WindowStart(_next));   // what no later output reads
        _input.Append(input);
    }

    private void Emit(long limit)
    {
        int window = _resampler.WindowLength;
        long available = _input.End;
        int n = 0;
        while (_next < limit)
        {
            long start = _resampler.WindowStart(_next);
            if (start + window > available)
            {
                break;
            }

            _chunk[n++] = _resampler.OutputSample(_next, _input.Slice(start, window), _scratch);
            _next++;
            if (n == _chunk.Length)
            {
                _sink(_chunk);
                n = 0;
            }
        }

        if (n > 0)
        {
            _sink(_chunk.AsSpan(0, n));
        }
    }
}
