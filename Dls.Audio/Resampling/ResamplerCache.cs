namespace Dls.Audio.Resampling;

/// <summary>
/// Resamplers by pair of rates, each built once (callers asking for a pair being built wait for that build), the least
/// recently used dropped when more than <c>maxPairs</c> pairs or <c>maxCoefficients</c> stored filter coefficients would
/// be kept. A pair whose filter alone exceeds the coefficient budget is handed out but not kept. Thread-safe.
/// </summary>
/// <param name="maxPairs">The most pairs kept, those being built included.</param>
/// <param name="maxCoefficients">The most stored filter coefficients kept in all.</param>
/// <param name="build">Builds a resampler (tests observe the cache while a build runs); the constructor by default.</param>
internal sealed class ResamplerCache(int maxPairs, long maxCoefficients, Func<int, int, Resampler>? build = null)
{
    private readonly Func<int, int, Resampler> _build = build ?? ((input, output) => new Resampler(input, output));
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Input, int Output), Entry> _entries = [];
    private readonly LinkedList<(int Input, int Output)> _recency = new();   // most recently used first
    private long _coefficients;

    /// <summary>The pairs kept and their stored coefficients, now.</summary>
    public (int Pairs, long Coefficients) Usage
    {
        get
        {
            lock (_gate)
            {
                return (_entries.Count, _coefficients);
            }
        }
    }

    /// <summary>The resampler for these rates, from the cache or built now.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Rates the <see cref="Resampler"/> constructor refuses (never kept).</exception>
    public Resampler Get(int inputRate, int outputRate)
    {
        Resampler.CheckRates(inputRate, outputRate);
        var key = (inputRate, outputRate);
        Entry entry;
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out entry!))
            {
                _recency.Remove(entry.Node);
                _recency.AddFirst(entry.Node);
            }
            else
            {
                entry = new Entry(new Lazy<Resampler>(() => _build(inputRate, outputRate)), new LinkedListNode<(int, int)>(key));
                _entries.Add(key, entry);
                _recency.AddFirst(entry.Node);
                Trim(entry);   // the pair limit holds from now on, not only once the filter is built
            }
        }

        Resampler resampler;
        try
        {
            resampler = entry.Build.Value;   // outside the lock: one build per pair, the other pairs are not held up
        }
        catch
        {
            // Lazy keeps its exception (out of memory, say); the pair is dropped so that a later call builds it afresh.
            lock (_gate)
            {
                Drop(entry);
            }

            throw;
        }

        lock (_gate)
        {
            if (!entry.Counted && _entries.TryGetValue(key, out var kept) && ReferenceEquals(kept, entry))
            {
                entry.Counted = true;
                entry.Coefficients = resampler.StoredCoefficients;
                _coefficients += entry.Coefficients;
                Trim(entry);
            }
        }

        return resampler;
    }

    /// <summary>
    /// Drops <paramref name="built"/> if its filter alone is over the coefficient budget, then the least recently used
    /// other pairs until both limits hold.
    /// </summary>
    private void Trim(Entry built)
    {
        if (built.Coefficients > maxCoefficients)
        {
            Drop(built);
        }

        for (var node = _recency.Last; node is not null && (_entries.Count > maxPairs || _coefficients > maxCoefficients);)
        {
            var previous = node.Previous;
            var victim = _entries[node.Value];
            if (!ReferenceEquals(victim, built))
            {
                Drop(victim);
            }

            node = previous;
        }
    }

    private void Drop(Entry entry)
    {
        var key = entry.Node.Value;
        if (!_entries.TryGetValue(key, out var kept) || !ReferenceEquals(kept, entry))
        {
            return;
        }

        _entries.Remove(key);
        _recency.Remove(entry.Node);
        _coefficients -= entry.Coefficients;
    }

    private sealed class Entry(Lazy<Resampler> build, LinkedListNode<(int, int)> node)
    {
        public Lazy<Resampler> Build { get; } = build;

        public LinkedListNode<(int Input, int Output)> Node { get; } = node;

        /// <summary>Whether <see cref="Coefficients"/> has been added to the cache's total (once built).</summary>
        public bool Counted { get; set; }

        public long Coefficients { get; set; }
    }
}
