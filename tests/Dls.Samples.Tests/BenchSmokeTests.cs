using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary>
/// Every benchmark area runs (briefly, <c>--quick</c>) and prints the figures the README and the issues name, each a
/// positive finite number. What the figures are worth is for the benchmark commands to show, never for a test.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class BenchSmokeTests
{
    public static TheoryData<string, string[]> Areas => new()
    {
        { "mnist", ["matmul_gflops", "trainer_vs_bare", "trainer_matmul_fraction", "lowrank20_speedup_b1", "lowrank20_speedup_b128", "lowrank20_speedup_b128_1thread", "core_round_trip_ns_b128_start", "core_round_trip_ns_b128_end"] },
        { "audio", ["stft_istft_library_to_raw_ratio", "wav_read_pcm16_mb_per_s", "resample_48k_to_16k_audio_s_per_s"] },
        { "denoise", ["rtf_default", "rtf_default_stream_48k", "stream_48k_latency_ms", "rtf_default_clips_44k", "rtf_fc_mask", "rtf_fc_mask_compressed", "rtf_gru_mask", "rtf_gru_mask_compressed", "train_frames_per_s", "memory_seconds", "memory_mb_before", "memory_stream_mb_peak_first_tenth", "memory_stream_mb_peak", "memory_call_input_mb", "memory_call_mb_before", "memory_call_mb_peak", "memory_file_mb_before", "memory_file_mb_peak"] },
        { "speaker", ["embed_realtime_factor", "embed_realtime_factor_44k", "embed_batch_realtime_factor", "train_pairs_per_s", "long_seconds", "long_realtime_factor", "memory_long_input_mb", "memory_long_mb_before", "memory_long_mb_peak"] },
    };

    [Theory]
    [MemberData(nameof(Areas))]
    public async Task Bench_Quick_PrintsItsFigures(string area, string[] keys)
    {
        var (code, stdout, stderr) = await HostRunner.RunAsync("bench", area, "--quick", "--json");
        Assert.True(code == 0, $"exit {code}: {stderr}");
        var json = HostRunner.LastJsonLine(stdout);
        // The core-to-core figures need two processors (CoreLatencyProbe); every area gets the start/end pair from the host.
        var expected = keys.Concat(["core_round_trip_ns_start", "core_round_trip_ns_end", "torch_threads"])
            .Where(k => Environment.ProcessorCount >= 2 || !k.StartsWith("core_round_trip", StringComparison.Ordinal));
        foreach (string key in expected)
        {
            Assert.True(json.ContainsKey(key), $"'{key}' is missing from {json.ToJsonString()}");
            double value = (double)json[key]!;
            Assert.True(double.IsFinite(value) && value > 0, $"{key} = {value}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PeakMemoryWindow_SeesMemoryTouchedAndFreedInsideIt(bool useKernelMark)
    {
        long before;
        long peak;
        using (var window = PeakMemoryWindow.Start(useKernelMark))
        {
            if (!useKernelMark) Assert.False(window.IsExact);   // with it, exact where the kernel lets the mark be reset
            before = PeakMemoryWindow.ResidentBytes();
            // 64 MiB outside the GC heap, every page written (so resident), then given back before the peak is read.
            const int size = 64 << 20;
            IntPtr block = System.Runtime.InteropServices.Marshal.AllocHGlobal(size);
            try
            {
                for (int offset = 0; offset < size; offset += 4096)
                {
                    System.Runtime.InteropServices.Marshal.WriteByte(block, offset, 1);
                }

                Thread.Sleep(20);   // the sampling fallback reads every millisecond
            }
            finally
            {
                System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
            }

            peak = window.PeakBytes();
        }

        // The peak holds the 64 MiB on top of what was resident before, less 8 MiB for pages of the process that the
        // kernel may have dropped meanwhile (the resident set of a test host moves by a few MiB on its own).
        Assert.True(peak >= before + (56L << 20), $"peak {peak >> 20} MiB, resident before {before >> 20} MiB");

        // A new window starts from the memory resident now, not from the earlier peak (the block was given back to the
        // system: 64 MiB is above glibc's largest mmap threshold, 32 MiB); 32 MiB of margin for the same drift.
        using var next = PeakMemoryWindow.Start(useKernelMark);
        Assert.True(next.PeakBytes() < peak - (32L << 20), $"new window's peak {next.PeakBytes() >> 20} MiB, earlier peak {peak >> 20} MiB");
    }

    [Fact]
    public void PeakMemoryWindow_OpenedInsideAnother_SamplesAndLeavesTheOuterPeakAlone()
    {
        using var outer = PeakMemoryWindow.Start();
        const int size = 64 << 20;
        IntPtr block = System.Runtime.InteropServices.Marshal.AllocHGlobal(size);
        try
        {
            for (int offset = 0; offset < size; offset += 4096)
            {
                System.Runtime.InteropServices.Marshal.WriteByte(block, offset, 1);
            }
        }
        finally
        {
            System.Runtime.InteropServices.Marshal.FreeHGlobal(block);
        }

        long outerPeak = outer.PeakBytes();
        using (var inner = PeakMemoryWindow.Start())
        {
            Assert.False(inner.IsExact);   // the kernel's one mark belongs to the outer window
        }

        // Resetting the mark for the inner window would have dropped the outer peak by the freed 64 MiB.
        Assert.True(outer.PeakBytes() >= outerPeak, $"outer peak {outer.PeakBytes() >> 20} MiB after the inner window, {outerPeak >> 20} MiB before");
    }

    [Fact]
    public void CoreLatencyProbe_MeasuresARoundTripOnTwoProcessorsOrNoneOnOne()
    {
        double? roundTrip = CoreLatencyProbe.RoundTripNanoseconds();
        if (Environment.ProcessorCount < 2)
        {
            Assert.Null(roundTrip);   // two spinning threads on one processor would measure the scheduler
            return;
        }

        Assert.NotNull(roundTrip);
        // A round trip moves a cache line twice: more than a nanosecond on any machine; and a counted block lasts at most
        // its 0.3 s budget (plus one clock check), so even a block that completed one round trip stays below 0.4 s.
        Assert.InRange(roundTrip.Value, 1, 0.4e9);
    }

    [Fact]
    public async Task Bench_WithoutJson_PrintsOneKeyValueLinePerFigure()
    {
        var (code, stdout, stderr) = await HostRunner.RunAsync("bench", "audio", "--quick");

        Assert.True(code == 0, $"exit {code}: {stderr}");
        // "key" padded to 36 columns, a space, the value: every audio figure and the host's thread count, no JSON line.
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.DoesNotContain(lines, l => l.StartsWith('{'));
        var figures = lines.ToDictionary(l => l[..36].TrimEnd(), l => l[37..]);
        foreach (string key in new[] { "stft_istft_library_to_raw_ratio", "wav_read_pcm16_mb_per_s", "resample_48k_to_16k_audio_s_per_s" })
            Assert.True(double.Parse(figures[key], System.Globalization.CultureInfo.InvariantCulture) > 0, $"{key} = {figures[key]}");
        Assert.Equal(TorchSharp.torch.get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture), figures["torch_threads"]);
    }

    [Fact]
    public void PeakMemoryWindow_DisposedTwice_DoesNotFreeTheMarkAnotherWindowHolds()
    {
        var first = PeakMemoryWindow.Start();
        bool kernelMark = first.IsExact;
        first.Dispose();
        using var second = PeakMemoryWindow.Start();
        // Freed by the first Dispose, the kernel's one mark (where this machine offers it) goes to the next window.
        Assert.Equal(kernelMark, second.IsExact);

        first.Dispose();   // a second Dispose is a no-op: it must not free the mark the second window now holds

        using var third = PeakMemoryWindow.Start();
        Assert.False(third.IsExact);
    }
}
