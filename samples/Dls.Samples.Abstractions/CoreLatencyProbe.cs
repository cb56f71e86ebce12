using System.Diagnostics;

namespace Dls.Samples.Abstractions;

/// <summary>
/// Measures how long two threads of this process take to hand a cache line back and forth (a round trip: one thread
/// writes, the other sees it and answers, the first sees the answer). Benchmarks print it beside their figures because
/// on a virtual machine it is not a constant: when the hypervisor runs the two virtual CPUs on cores that share a cache
/// the round trip is about 110 ns, when it runs them on distant cores about 500 ns (measured on the 2-core machine
/// these benchmarks were written on, switching between runs and sometimes within one). Multi-threaded kernels that
/// exchange data between threads at every step — small matrix products split over two threads — run up to 1.7× slower in
/// the second case while one-thread figures do not move, so this figure says which machine a run measured.
/// </summary>
public static class CoreLatencyProbe
{
    /// <summary>Round trips per measured block.</summary>
    private const int RoundTrips = 20_000;

    /// <summary>Measured blocks; the median is reported.</summary>
    private const int Blocks = 5;

    /// <summary>
    /// The longest a block may take (the first, a warm-up, too): on a loaded machine a spinning thread waits for its
    /// turn on a processor, and the probe must stay short. A block cut short counts the round trips it completed.
    /// </summary>
    private static readonly TimeSpan BlockBudget = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// The median round-trip time in nanoseconds over a few blocks of round trips between two threads (at most about
    /// two seconds in all), or null when the process may use fewer than two processors (two spinning threads would
    /// then take turns on one, measuring the scheduler's time slice instead) or no round trip completed.
    /// </summary>
    /// <returns>Nanoseconds per round trip, or null.</returns>
    public static double? RoundTripNanoseconds()
    {
        if (Environment.ProcessorCount < 2)
        {
            return null;
        }

        var line = new PaddedCounter();
        var stop = new Flag();
        var answerer = new Thread(() => Answer(line, stop)) { IsBackground = true, Name = "core latency probe" };
        answerer.Start();
        var blocks = new List<double>();
        long value = 0;
        try
        {
            // The first block warms both threads (JIT, wake-up) and is not counted.
            for (int block = 0; block <= Blocks; block++)
            {
                var watch = Stopwatch.StartNew();
                int done = 0;
                for (; done < RoundTrips; done++)
                {
                    if ((done & 1023) == 1023 && watch.Elapsed > BlockBudget)
                    {
                        break;
                    }

                    Volatile.Write(ref line.Value, ++value);   // odd: a question
                    ++value;
                    if (!WaitFor(line, value, watch))          // even: its answer
                    {
                        break;
                    }
                }

                if (block > 0 && done > 0)
                {
                    blocks.Add(watch.Elapsed.TotalNanoseconds / done);
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop.Value, true);
            answerer.Join();
        }

        if (blocks.Count == 0)
        {
            return null;
        }

        blocks.Sort();
        return blocks[blocks.Count / 2];
    }

    private static void Answer(PaddedCounter line, Flag stop)
    {
        while (!Volatile.Read(ref stop.Value))
        {
            long now = Volatile.Read(ref line.Value);
            if ((now & 1) == 1)
            {
                // Only if the question is still there: after a block is cut short the asker may already have moved on
                // to its next question, which a plain write of this answer would overwrite.
                Interlocked.CompareExchange(ref line.Value, now + 1, now);
            }
        }
    }

    /// <summary>Spins until the counter reaches <paramref name="value"/>; false if the block's budget ran out first.</summary>
    private static bool WaitFor(PaddedCounter line, long value, Stopwatch block)
    {
        for (int spins = 1; Volatile.Read(ref line.Value) != value; spins++)
        {
            // Looking at the clock costs more than a round trip; only check it now and then.
            if ((spins & 0xFFF) == 0 && block.Elapsed > BlockBudget)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A counter alone on its cache line (64 bytes either side), so nothing else shares the line it measures.</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 192)]
    private sealed class PaddedCounter
    {
        [System.Runtime.InteropServices.FieldOffset(64)]
        public long Value;
    }

    private sealed class Flag
    {
        public bool Value;
    }
}
