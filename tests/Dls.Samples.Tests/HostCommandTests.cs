using TorchSharp;

namespace Dls.Samples.Tests;

[Collection("TorchGlobalState")]
public sealed class HostCommandTests
{
    [Fact]
    public async Task Env_Json_ReportsLibtorchAndThreads()
    {
        var (code, stdout, _) = await HostRunner.RunAsync("env", "--json");
        Assert.Equal(0, code);
        var json = HostRunner.LastJsonLine(stdout);
        Assert.StartsWith("2.10", (string)json["libtorch_version"]!);
        Assert.Equal(torch.get_num_threads(), (int)json["torch_threads"]!);
    }

    [Fact]
    public async Task Env_ThreadsOption_ChangesTorchThreads()
    {
        int before = torch.get_num_threads();
        try
        {
            var (code, stdout, _) = await HostRunner.RunAsync("--threads", "1", "env", "--json");
            Assert.Equal(0, code);
            Assert.Equal(1, (int)HostRunner.LastJsonLine(stdout)["torch_threads"]!);
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(100_000)]   // would start that many OpenMP workers: refused before torch sees it
    public async Task Threads_OutOfRange_FailsWithOneClearLine(int threads)
    {
        int before = torch.get_num_threads();
        var (code, _, stderr) = await HostRunner.RunAsync("--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "env");
        Assert.Equal(2, code);   // a usage error, found while parsing
        Assert.Contains($"--threads: expected a whole number from 1 to {4 * Environment.ProcessorCount} (at most 4 per logical processor, this machine has {Environment.ProcessorCount}), found '{threads}'.", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public async Task Threads_WithoutAValue_IsAUsageErrorNamingTheOption()
    {
        int before = torch.get_num_threads();

        var (code, stdout, stderr) = await HostRunner.RunAsync("env", "--threads");

        Assert.Equal(2, code);
        Assert.Equal(
            ["error: Required argument missing for option: '--threads'.", "Run 'dls-samples --help' for usage."],
            stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Equal("", stdout);
        Assert.Equal(before, torch.get_num_threads());
    }

    [Fact]
    public async Task RunAsync_NoWriters_WritesToTheProcessConsole()
    {
        // What the program's entry point does: no writers given, so results go to Console.Out and errors to Console.Error.
        var output = new StringWriter();
        var error = new StringWriter();
        int listCode = -1, failureCode = -1;

        await HostRunner.WithConsoleAsync(output, error, async () =>
        {
            listCode = await DlsSamplesApp.RunAsync(["list"]);
            failureCode = await DlsSamplesApp.RunAsync(["run", "no-such-task"]);
        });

        Assert.Equal(0, listCode);
        Assert.Equal(2, failureCode);
        foreach (string plugin in new[] { "mnist", "audio", "denoise", "speaker" })
        {
            Assert.Contains($"{plugin} — ", output.ToString());
        }

        Assert.Contains("error: Unknown task 'no-such-task': expected one of ", error.ToString());
        Assert.DoesNotContain("Unknown task", output.ToString());
    }

    [Fact]
    public async Task UnknownCommand_OneErrorLineNamingIt()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("frobnicate");
        Assert.Equal(2, code);
        Assert.Equal(
            ["error: Unrecognized command or argument 'frobnicate'.", "Run 'dls-samples --help' for usage."],
            stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public async Task UnknownCommand_OtherErrorsStillShown()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("--threads", "0", "frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("error: Unrecognized command or argument 'frobnicate'.", stderr);
        Assert.Contains("--threads: expected a whole number from 1", stderr);
    }

    [Fact]
    public async Task NoCommand_SaysACommandIsRequired()
    {
        var (code, _, stderr) = await HostRunner.RunAsync();
        Assert.Equal(2, code);
        Assert.Contains("error: Required command was not provided.", stderr);
    }

    [Fact]
    public async Task Run_UnknownTask_NamesTheKnownTasks()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("run", "no-such-task");
        Assert.Equal(2, code);
        Assert.Contains("Unknown task 'no-such-task'", stderr);
    }

    [Fact]
    public async Task Bench_UnknownArea_FailsWithMessage()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("bench", "no-such-area", "--json");
        Assert.Equal(2, code);
        Assert.Contains("Unknown benchmark area 'no-such-area'", stderr);
    }

    [Fact]
    public async Task UnknownOption_IsAUsageError()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("env", "--no-such-option");
        Assert.Equal(2, code);
        Assert.Contains("--no-such-option", stderr);
    }

    [Theory]
    [InlineData("--threads abc env", "--threads: expected a whole number from 1 to CORES4 (at most 4 per logical processor, this machine has CORES), found 'abc'.")]
    [InlineData("run mnist-baseline --seed -1", "--seed: expected a whole number from 0 to 2147483647, found '-1'.")]
    [InlineData("run mnist-baseline --quick --out FILE", "--out: expected a folder (existing or new), found the file 'FILE'.")]
    [InlineData("reproduce --out FILE", "--out: expected a folder (existing or new), found the file 'FILE'.")]
    [InlineData("speaker-eval --data DIR --out FILE", "--out: expected a folder (existing or new), found the file 'FILE'.")]
    [InlineData("denoise-eval --data DIR --out FILE", "--out: expected a folder (existing or new), found the file 'FILE'.")]
    [InlineData("speaker-eval --data DIR --split bogus", "'bogus'")]
    [InlineData("verify --enroll WAV --test WAV --threshold NaN", "--threshold: expected a number from -1 to 1 (a cosine), found 'NaN'.")]
    [InlineData("verify --enroll WAV --test WAV --threshold 5", "--threshold: expected a number from -1 to 1 (a cosine), found '5'.")]
    [InlineData("verify --enroll --test WAV", "--enroll: expected one or more paths before the next option, found the option '--test'.")]
    [InlineData("audio mix --speech WAV --noise WAV --snr Infinity --out OUT.wav", "--snr: expected a number from -100 to 100, found 'Infinity'.")]
    [InlineData("audio spectrogram WAV --out OUT.png --range -10", "--range: expected a number from 1 to 300, found '-10'.")]
    public Task BadOptionValue_IsAUsageErrorBeforeAnyWork(string commandLine, string expected) => InTemporaryFolder("dls-badoption", async dir =>
    {
        // Found while parsing: exit code 2, one line in the option's terms (no .NET type or parameter names), nothing
        // trained, measured or written first.
        string wav = SaveSine(Path.Combine(dir, "a.wav")), file = Path.Combine(dir, "plain-file");
        File.WriteAllText(file, "not a folder");
        string outPath = Path.Combine(dir, "out");
        string[] args = commandLine.Split(' ').Select(a => a switch
        {
            "WAV" => wav,
            "FILE" => file,
            "DIR" => dir,
            "OUT.wav" => outPath + ".wav",
            "OUT.png" => outPath + ".png",
            _ => a,
        }).ToArray();
        var (code, stdout, stderr) = await HostRunner.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Contains(expected.Replace("CORES4", (4 * Environment.ProcessorCount).ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Replace("CORES", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("FILE", file), stderr);
        Assert.DoesNotContain("System.", stderr);
        Assert.DoesNotContain("Parameter '", stderr);
        Assert.Equal("", stdout);
        Assert.DoesNotContain(Directory.GetFileSystemEntries(dir), e => e.StartsWith(outPath, StringComparison.Ordinal));
    });

    [Theory]
    [InlineData("denoise WAV --modle x --out OUT", "--modle", "--model, --out")]
    [InlineData("audio info WAV --jsn", "--jsn", "--json")]
    [InlineData("verify --enroll WAV --enrol WAV --test WAV", "--enrol", "--enroll, --json, --model, --test, --threshold")]
    public async Task MistypedOption_InAPathList_IsAUsageErrorNamingTheOptions(string commandLine, string mistyped, string options)
    {
        // A path list takes every token the parser does not know; a mistyped option must not reach the command as a
        // path (it would fail later as "no such file", or, were there such a file, be processed as one).
        string wav = Path.Combine(Path.GetTempPath(), $"dls-mistyped-{Guid.NewGuid():N}.wav");
        Dls.Audio.IO.AudioFile.Save(wav, new Dls.Audio.AudioSignal(new float[1600], 16000));
        string outDir = Path.Combine(Path.GetTempPath(), $"dls-mistyped-{Guid.NewGuid():N}");
        try
        {
            string[] args = commandLine.Split(' ').Select(a => a switch { "WAV" => wav, "OUT" => outDir, _ => a }).ToArray();
            var (code, stdout, stderr) = await HostRunner.RunAsync(args);
            Assert.Equal(2, code);
            Assert.Contains($"Unknown option '{mistyped}'", stderr);
            Assert.Contains($"[{options}]", stderr);
            Assert.Equal("", stdout);
            Assert.False(Directory.Exists(outDir), "nothing may be written after a usage error");
        }
        finally
        {
            File.Delete(wav);
        }
    }

    [Theory]
    [InlineData("verify --enroll {wav} --test {dir}", "Expected a WAV file, found a folder at '{dir}'.")]
    [InlineData("audio info {dir}/missing.wav", "Expected a WAV file, found nothing at '{dir}/missing.wav'.")]
    [InlineData("denoise-eval --data {wav}", "Dataset folder '{wav}': expected a folder of WAV pairs, found a file.")]
    [InlineData("run denoise-train --quick --data {dir} --out {dir}/results", "expected the corpus layout (train/ and test/ folders of homework-layout pairs), clean/ and noise/ folders")]
    public Task InputPathOfTheWrongKind_FailsSayingWhatWasFound(string commandLine, string expected) => InTemporaryFolder("dls-badpath", async dir =>
    {
        string wav = SaveSine(Path.Combine(dir, "a.wav"), samples: 16000);
        string[] args = commandLine.Split(' ').Select(a => a.Replace("{wav}", wav).Replace("{dir}", dir)).ToArray();
        var (code, _, stderr) = await HostRunner.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Contains(expected.Replace("{wav}", wav).Replace("{dir}", dir), stderr);
    });

    [Fact]
    public Task Denoise_BrokenFileAmongMany_NothingWrittenAndTheFileNamed() => InTemporaryFolder("dls-denoise-broken", async dir =>
    {
        string good = SaveSine(Path.Combine(dir, "a.wav")), broken = SaveSine(Path.Combine(dir, "b.wav")), outDir = Path.Combine(dir, "out");
        File.WriteAllBytes(broken, File.ReadAllBytes(broken)[..100]);   // the data chunk declares 3,200 bytes; 56 remain

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", good, broken, "--out", outDir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{broken}': WAV 'data' chunk size", stderr);
        Assert.False(File.Exists(Path.Combine(outDir, "a.wav")), "the good file before the broken one must not be written either");
    });

    [Theory]
    [InlineData(0, 16000, "holds no samples (expected at least 1); nothing was written.")]
    [InlineData(1600, 1_700_000_000, "is sampled at 1700000000 Hz; expected at most 1600000000 Hz (100000 × the model's 16000 Hz); nothing was written.")]
    public Task Denoise_EmptyOrTooFastFileAmongMany_NothingWrittenAndTheFileNamed(int samples, int rate, string expected) => InTemporaryFolder("dls-denoise-unusable", async dir =>
    {
        // Headers that read well but that DenoiseFile refuses: found in the pass over all headers, not after "a.wav" is written.
        string good = SaveSine(Path.Combine(dir, "a.wav")), unusable = Path.Combine(dir, "b.wav"), outDir = Path.Combine(dir, "out");
        Dls.Audio.IO.WavFile.Write(unusable, new Dls.Audio.IO.WavData(rate, [new float[samples]], Dls.Audio.IO.WavSampleFormat.Pcm16));

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", good, unusable, "--out", outDir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{unusable}' {expected}", stderr);
        Assert.False(File.Exists(Path.Combine(outDir, "a.wav")), "the good file before the unusable one must not be written either");
    });

    [Fact]
    public Task Denoise_FolderWithUpperCaseExtension_DenoisesThoseFilesToo() => InTemporaryFolder("dls-denoise-case", async dir =>
    {
        string input = Path.Combine(dir, "in"), outDir = Path.Combine(dir, "out");
        Directory.CreateDirectory(input);
        SaveSine(Path.Combine(input, "A.WAV"));
        SaveSine(Path.Combine(input, "b.wav"));

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", input, "--out", outDir);

        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(outDir, "A.WAV")), "A.WAV (written by Windows and macOS tools) must not be skipped on Linux");
        Assert.True(File.Exists(Path.Combine(outDir, "b.wav")));
    });

    [Fact]
    public Task Denoise_MissingInputAmongOthers_NamesItAndWritesNothing() => InTemporaryFolder("dls-denoise-missing", async dir =>
    {
        string good = SaveSine(Path.Combine(dir, "a.wav")), outDir = Path.Combine(dir, "out");
        string missing = Path.Combine(dir, "no-such.wav");

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", good, missing, "--out", outDir);

        Assert.Equal(1, code);
        Assert.Contains($"Input '{missing}' does not exist (expected a WAV file or a folder of them); nothing was written.", stderr);
        Assert.False(Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any(), "nothing may be written before the inputs are known");
    });

    [Fact]
    public Task Denoise_MissingInputAfterAFolder_NamesTheMissingOneAndWritesNothing() => InTemporaryFolder("dls-denoise-missing-dir", async dir =>
    {
        // A folder of WAV files is a valid input: the error names the path that names nothing, not the folder before it.
        string folder = Path.Combine(dir, "in"), outDir = Path.Combine(dir, "out"), missing = Path.Combine(dir, "gone");
        Directory.CreateDirectory(folder);
        SaveSine(Path.Combine(folder, "a.wav"));

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", folder, missing, "--out", outDir);

        Assert.Equal(1, code);
        Assert.Equal($"error: Input '{missing}' does not exist (expected a WAV file or a folder of them); nothing was written.", stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.False(Directory.Exists(outDir), "nothing may be written before the inputs are known");
    });

    [Fact]
    public Task Denoise_OutIsTheInputFolder_RefusedAndInputsUntouched() => InTemporaryFolder("dls-denoise-inplace", async dir =>
    {
        string wav = SaveSine(Path.Combine(dir, "noisy.wav"));
        byte[] before = File.ReadAllBytes(wav);

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", dir, "--out", dir);

        Assert.Equal(2, code);   // a usage error, found while parsing
        Assert.Contains($"The output '{wav}' is an input file; denoising would replace it.", stderr);
        Assert.Equal(before, File.ReadAllBytes(wav));
    });

    [Fact]
    public Task Denoise_OutIsAFileForTwoInputs_UsageError() => InTemporaryFolder("dls-denoise-outfile", async dir =>
    {
        string a = SaveSine(Path.Combine(dir, "a.wav")), b = SaveSine(Path.Combine(dir, "b.wav"));
        string outFile = Path.Combine(dir, "out.wav");
        File.WriteAllText(outFile, "not a folder");

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", a, b, "--out", outFile);

        Assert.Equal(2, code);
        Assert.Contains($"--out: expected a folder for 2 input file(s), found the file '{outFile}'.", stderr);
        Assert.Equal("not a folder", File.ReadAllText(outFile));
    });

    [Fact]
    public Task Denoise_OutPathTheSystemRefuses_OneErrorLineNotACrashWhileParsing() => InTemporaryFolder("dls-denoise-badout", async dir =>
    {
        string a = SaveSine(Path.Combine(dir, "a.wav"));

        // A NUL character makes Path.GetFullPath throw; the output checks run while parsing, outside the host's handler.
        var (code, _, stderr) = await HostRunner.RunAsync("denoise", a, "--out", "bad\0name");

        Assert.Equal(1, code);
        Assert.StartsWith("error: ", stderr);
        Assert.DoesNotContain("   at ", stderr);
    });

    [Fact]
    public Task Denoise_TwoInputsOfOneName_RefusedBeforeWriting() => InTemporaryFolder("dls-denoise-names", async dir =>
    {
        string a = Path.Combine(dir, "a", "x.wav"), b = Path.Combine(dir, "b", "x.wav"), outDir = Path.Combine(dir, "out");
        foreach (string wav in new[] { a, b })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(wav)!);
            Dls.Audio.IO.AudioFile.Save(wav, new Dls.Audio.AudioSignal(new float[1600], 16000));
        }

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", a, b, "--out", outDir);

        Assert.Equal(2, code);
        Assert.Contains($"Inputs '{a}' and '{b}' would both be written to '{Path.Combine(outDir, "x.wav")}'.", stderr);
        Assert.False(Directory.Exists(outDir), "nothing may be written");
    });

    [Fact]
    public async Task SpeakerTrain_FolderWithoutSplitFile_SaysASpeakersCsvIsNeeded()
    {
        string root = Path.Combine(Path.GetTempPath(), $"dls-nosplit-{Guid.NewGuid():N}");
        try
        {
            foreach (string speaker in new[] { "a", "b" })
            {
                Directory.CreateDirectory(Path.Combine(root, speaker));
                Dls.Audio.IO.AudioFile.Save(Path.Combine(root, speaker, "0.wav"), new Dls.Audio.AudioSignal(new float[16000], 16000));
            }

            var (code, _, stderr) = await HostRunner.RunAsync("run", "speaker-train", "--data", root, "--quick", "--out", Path.Combine(root, "out"));
            Assert.Equal(1, code);
            Assert.Contains("needs a speakers.csv", stderr);
            Assert.Contains("found none, with 2 speaker folder(s)", stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task AudioInfoAndConvert_FloatWavWithNaN_InfoCountsThemAndConvertWritesNothing()
    {
        // A float WAV can store NaN: info must still describe the file (levels over the finite samples, the NaNs counted with
        // the frame of the first), and convert must refuse before writing, naming the frame and channel.
        string dir = Path.Combine(Path.GetTempPath(), $"dls-nan-wav-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var left = Enumerable.Repeat(0.5f, 20000).ToArray();
            var right = Enumerable.Repeat(-0.25f, 20000).ToArray();
            right[12345] = float.NaN;
            right[15000] = float.PositiveInfinity;
            string wav = Path.Combine(dir, "nan.wav");
            Dls.Audio.IO.WavFile.Write(wav, new Dls.Audio.IO.WavData(16000, [left, right], Dls.Audio.IO.WavSampleFormat.Float32));

            var (infoCode, infoOut, _) = await HostRunner.RunAsync("audio", "info", wav, "--json");
            Assert.Equal(0, infoCode);
            var entry = HostRunner.LastJsonLine(infoOut)["files"]![0]!;
            Assert.Equal(2, (long)entry["non_finite_samples"]!);
            // Peak of the finite samples: 0.5 → −6.0206 dBFS; the JSON rounds to 6 decimals, hence the 1e-5 tolerance.
            Assert.Equal(20 * Math.Log10(0.5), (double)entry["peak_dbfs"]!, 1e-5);

            string converted = Path.Combine(dir, "out.wav");
            var (convertCode, _, convertErr) = await HostRunner.RunAsync("audio", "convert", wav, converted, "--format", "pcm16");
            Assert.Equal(1, convertCode);
            Assert.Contains("found NaN at frame 12345 of channel 1; nothing was written", convertErr);
            Assert.False(File.Exists(converted));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task SpeakerEval_EmbeddedTestSpeakers_PrintsFiguresAndWritesThePlots()
    {
        // The embedded speaker subset (6 test speakers × 8 utterances) scored by the shipped model: the JSON carries the
        // issue's keys and the DET and score plots are written where --out says. EERs are rates, so they must lie in [0, 1].
        string data = Path.Combine(RepoPaths.Root, "samples", "data", "speaker");
        string outDir = Path.Combine(Path.GetTempPath(), $"dls-speaker-eval-{Guid.NewGuid():N}");
        try
        {
            var (code, stdout, stderr) = await HostRunner.RunAsync("speaker-eval", "--data", data, "--out", outDir, "--json", "--far", "0.05");
            Assert.True(code == 0, stderr);
            var json = HostRunner.LastJsonLine(stdout);
            Assert.Equal(6, (int)json["speakers"]!);
            Assert.Equal(6 * 28 * 2, (int)json["trials"]!); // 28 same-speaker pairs of 8 utterances per speaker, as many different
            foreach (string key in new[] { "eer", "baseline_eer", "eer_all_pairs" })
                Assert.InRange((double)json[key]!, 0.0, 1.0);
            string det = Path.Combine(outDir, "det.png");
            Assert.Equal(det, (string)json["det_png"]!);
            Assert.True(new FileInfo(det).Length > 1000, "det.png should be a drawn PNG");
            // The threshold for a 5 % false-accept rate: a cosine, meeting the rate on these trials.
            Assert.Equal(0.05, (double)json["far_target"]!);
            Assert.InRange((double)json["threshold_far"]!, -1.0, 1.0);
            Assert.InRange((double)json["false_accept_rate_at_far"]!, 0.0, 0.05);
            Assert.Contains("at FAR 5.00 %  threshold ", stdout);
            string scores = Path.Combine(outDir, "scores.png");
            Assert.Equal(scores, (string)json["scores_png"]!);
            Assert.True(new FileInfo(scores).Length > 1000, "scores.png should be a drawn PNG");
        }
        finally
        {
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
        }
    }

    [Fact]
    public async Task SpeakerEval_FalseAcceptRateOutOfRange_IsAUsageError()
    {
        var (code, _, stderr) = await HostRunner.RunAsync("speaker-eval", "--data", Path.Combine(RepoPaths.Root, "samples", "data", "speaker"), "--far", "1.5");

        Assert.Equal(2, code);
        Assert.Contains("--far", stderr);
        Assert.Contains("1.5", stderr);
    }

    [Fact]
    public async Task Env_WithoutJson_PrintsOneKeyValueLinePerFigure()
    {
        var (code, stdout, _) = await HostRunner.RunAsync("env");

        Assert.Equal(0, code);
        // "key" padded to 22 columns, a space, the value.
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToDictionary(l => l[..22].TrimEnd(), l => l[23..]);
        Assert.Equal(torch.__version__, lines["libtorch_version"]);
        Assert.Equal(torch.get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture), lines["torch_threads"]);
        Assert.Equal(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), lines["logical_cores"]);
        Assert.Equal(10, lines.Count);
    }

    [Fact]
    public Task Verbose_Failure_PrintsTheStackTraceAfterTheErrorLine() => InTemporaryFolder("dls-verbose", async dir =>
    {
        string missing = Path.Combine(dir, "missing.wav");

        var (code, _, stderr) = await HostRunner.RunAsync("--verbose", "audio", "info", missing);

        Assert.Equal(1, code);
        string[] lines = stderr.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal($"error: Expected a WAV file, found nothing at '{missing}'.", lines[0]);
        // The whole exception follows: its type and message, then the frames.
        Assert.Contains(lines, l => l.StartsWith("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain("(run with --verbose for details)", stderr);
    });

    [Fact]
    public Task Run_Task_WritesItsResultsAndSaysWhere() => InTemporaryFolder("dls-run", async dir =>
    {
        string outDir = Path.Combine(dir, "results");

        var (code, stdout, stderr) = await HostRunner.RunAsync("run", "audio-demo", "--quick", "--out", outDir);

        Assert.True(code == 0, stderr);
        Assert.Equal($"audio-demo: results in {outDir}", stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last().TrimEnd('\r'));
        // The noisy file it wrote is its clean one with noise at the 5 dB it reports (16-bit files: 0.01 dB).
        float[] clean = Dls.Audio.IO.AudioFile.Load(Path.Combine(outDir, "audio_clean.wav")).Samples;
        float[] noisy = Dls.Audio.IO.AudioFile.Load(Path.Combine(outDir, "audio_noisy.wav")).Samples;
        double snr = 10 * Math.Log10(clean.Sum(v => (double)v * v) / clean.Zip(noisy, (c, n) => (double)c - n).Sum(d => d * d));
        Assert.Equal(5.0, snr, 0.01);
    });

    /// <summary>Runs <paramref name="test"/> with a new temporary folder, deleted afterwards whatever happens.</summary>
    private static async Task InTemporaryFolder(string prefix, Func<string, Task> test)
    {
        string dir = Directory.CreateTempSubdirectory(prefix).FullName;
        try
        {
            await test(dir);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Writes a quiet 16 kHz sine (a tenth of a second by default) and returns its path.</summary>
    private static string SaveSine(string path, int samples = 1600)
    {
        Dls.Audio.IO.AudioFile.Save(path, new Dls.Audio.AudioSignal(Enumerable.Range(0, samples).Select(i => MathF.Sin(i * 0.1f) * 0.3f).ToArray(), 16000));
        return path;
    }
}
