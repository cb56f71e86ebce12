namespace Dls.Audio.Resampling;

/// <summary>
/// Resamples a signal given a block at a time: <see cref="Push"/> the input in blocks of any size, then
/// <see cref="Complete"/>. The output is handed to the sink given at creation as soon as it is final, and is the output
/// of <see cref="Resampler.Process"/> on the whole signal, sample for sample and bit for bit.
/// </summary>
/// <remarks>
/// <para>Memory is bounded: the stream keeps one filter window of input (<see cref="Resampler.TapsPerOutputSample"/>,
/// rounded up to the SIMD width) plus the block being pushed, whatever the length of the signal.</para>
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
    private float[] _buffer;   // input samples (zeros before index 0 and after the end) from index _bufferStart on
    private long _bufferStart;
    private int _count;        // valid values in _buffer
    private long _next;        // the next output sample to compute
    private bool _completed;

    internal ResamplingStream(Resampler resampler, Action<ReadOnlySpan<float>> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _resampler = resampler;
        _sink = sink;
        _scratch = resampler.NewScratch();
        _chunk = new float[OutputChunk];
        // Output 0 reads from index K − 1 before the signal: those are zeros, as in the whole-signal call.
        _bufferStart = resampler.IsIdentity ? 0 : resampler.WindowStart(0);
        _count = (int)-_bufferStart;
        _buffer = new float[Math.Max(_count, 1) + resampler.WindowLength];
    }

    /// <summary>Input samples pushed so far.</summary>
    public long SamplesIn { get; private set; }

    /// <summary>Output samples handed to the sink so far.</summary>
    public long SamplesOut => _next;

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

        SamplesIn += input.Length;
        if (_resampler.IsIdentity)
        {
            _next += input.Length;
            _sink(input);
            return;
        }

        Append(input);
        // Only outputs that exist for any signal that starts with what has arrived (the final count grows with the input).
        Emit(Resampler.OutputLength(SamplesIn, _resampler.InputRate, _resampler.OutputRate));
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
            long zeros = end - (_bufferStart + _count);
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
        // Drop what no later output reads, then make room.
        long keepFrom = _resampler.WindowStart(_next);
        int drop = (int)Math.Clamp(keepFrom - _bufferStart, 0, _count);
        if (drop > 0)
        {
            Array.Copy(_buffer, drop, _buffer, 0, _count - drop);
            _bufferStart += drop;
            _count -= drop;
        }

        if (_count + input.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_count + input.Length, _buffer.Length * 2));
        }

        input.CopyTo(_buffer.AsSpan(_count));
        _count += input.Length;
    }

    private void Emit(long limit)
    {
        int window = _resampler.WindowLength;
        long available = _bufferStart + _count;
        int n = 0;
        while (_next < limit)
        {
            long start = _resampler.WindowStart(_next);
            if (start + window > available)
            {
                break;
            }

            _chunk[n++] = _resampler.OutputSample(_next, _buffer.AsSpan((int)(start - _bufferStart), window), _scratch);
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
