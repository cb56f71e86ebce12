namespace Dls.Samples.Abstractions;

/// <summary>
/// The highest resident memory of the process over a stretch of work, for benches that show a bounded footprint. On
/// Linux the kernel keeps the exact high-water mark (<c>VmHWM</c> in <c>/proc/self/status</c>, reset by writing 5 to
/// <c>/proc/self/clear_refs</c>); where that is not available a background thread samples the resident set every
/// millisecond instead (which can miss a spike shorter than that).
/// </summary>
public sealed class PeakMemoryWindow : IDisposable
{
    private const string StatusPath = "/proc/self/status";
    private const string ClearRefsPath = "/proc/self/clear_refs";

    // The kernel keeps one mark per process: while a window uses it, another window samples instead of resetting it.
    private static int s_kernelWindowOpen;

    private readonly Thread? _sampler;
    private volatile bool _stopped;
    private long _sampledPeak;

    private PeakMemoryWindow(bool kernelPeak)
    {
        if (kernelPeak)
        {
            return;
        }

        _sampledPeak = Environment.WorkingSet;
        _sampler = new Thread(() =>
        {
            while (!_stopped)
            {
                long now = Environment.WorkingSet;
                if (now > Interlocked.Read(ref _sampledPeak))
                {
                    Interlocked.Exchange(ref _sampledPeak, now);
                }

                Thread.Sleep(1);
            }
        }) { IsBackground = true, Name = "peak-memory sampler" };
        _sampler.Start();
    }

    /// <summary>Whether the peak comes from the kernel's high-water mark (exact) rather than from sampling.</summary>
    public bool IsExact => _sampler is null;

    /// <summary>The resident memory of the process now, in bytes.</summary>
    public static long ResidentBytes() => Environment.WorkingSet;

    /// <summary>Bytes as the benches print them: MiB (2^20 bytes), one decimal.</summary>
    public static double Megabytes(long bytes) => Math.Round(bytes / (1024.0 * 1024.0), 1);

    /// <summary>
    /// Starts a window: the peak from here on. The kernel keeps one mark per process, so only one window at a time uses
    /// it; a window started while another one does samples instead (and leaves the other's mark alone).
    /// </summary>
    /// <param name="useKernelMark">False samples even where the kernel's mark is available (for tests of the fallback).</param>
    public static PeakMemoryWindow Start(bool useKernelMark = true)
    {
        bool kernelPeak = false;
        if (useKernelMark && File.Exists(ClearRefsPath) && ReadHighWaterMark() is not null
            && Interlocked.CompareExchange(ref s_kernelWindowOpen, 1, 0) == 0)
        {
            try
            {
                File.WriteAllText(ClearRefsPath, "5");
                kernelPeak = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not allowed to reset the mark here (a hardened container, say): sample instead.
                Volatile.Write(ref s_kernelWindowOpen, 0);
            }
        }

        return new PeakMemoryWindow(kernelPeak);
    }

    /// <summary>The highest resident memory since <see cref="Start"/>, in bytes (at least the resident memory now).</summary>
    public long PeakBytes()
    {
        long now = Environment.WorkingSet;
        long peak = IsExact ? ReadHighWaterMark() ?? now : Interlocked.Read(ref _sampledPeak);
        return Math.Max(peak, now);
    }

    /// <summary>Stops the sampler thread, or frees the kernel's mark for the next window.</summary>
    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (_sampler is null)
        {
            Volatile.Write(ref s_kernelWindowOpen, 0);
        }
        else
        {
            _sampler.Join();
        }
    }

    private static long? ReadHighWaterMark()
    {
        if (!File.Exists(StatusPath))
        {
            return null;
        }

        foreach (string line in File.ReadLines(StatusPath))
        {
            // "VmHWM:\t  218408 kB" (the kernel pads the number to 8 places after a tab, so a large one has no space before it)
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                string[] parts = line["VmHWM:".Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 1 && long.TryParse(parts[0], out long kb) ? kb * 1024 : null;
            }
        }

        return null;
    }
}
