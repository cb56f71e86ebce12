using System.Globalization;
using Dls.Audio.IO;
using Dls.Models.Denoising;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary>The <c>denoise</c> and <c>denoise-eval</c> commands of the denoising plugin.</summary>
[Collection("TorchGlobalState")]
public sealed class DenoisingPluginTests
{
    private const int Rate = 16000;

    [Fact]
    public async Task Denoise_FolderWithoutWavFiles_FailsNamingTheInputs()
    {
        using var dir = ScratchFolder.Create("dls-denoise-empty-");
        string input = Directory.CreateDirectory(Path.Combine(dir.Path, "in")).FullName;
        File.WriteAllText(Path.Combine(input, "readme.txt"), "no audio");
        string outDir = Path.Combine(dir.Path, "out");

        var (code, stdout, stderr) = await HostRunner.RunAsync("denoise", input, "--out", outDir);

        Assert.Equal(1, code);
        Assert.Equal($"error: No .wav files found in [{input}].", stderr.Split('\n')[0].TrimEnd('\r'));
        Assert.Equal("", stdout);
        Assert.False(Directory.Exists(outDir), "nothing may be written");
    }

    [Fact]
    public async Task Denoise_OneFileAndAWavOut_WritesThatFileAtTheInputsRateAndLength()
    {
        using var dir = ScratchFolder.Create("dls-denoise-one-");
        // One input and an --out ending in .wav: the output is that file, not a folder of that name. 22.05 kHz input: the
        // denoiser resamples to its own rate and back.
        string input = dir.PathFor("noisy.wav"), output = dir.PathFor("denoised.wav");
        var rng = new Random(3);
        WavFile.Write(input, new WavData(22050, [Enumerable.Range(0, 11025).Select(i => (float)(0.3 * Math.Sin(i * 0.05) + 0.05 * (rng.NextDouble() - 0.5))).ToArray()], WavSampleFormat.Pcm16));

        var (code, stdout, stderr) = await HostRunner.RunAsync("denoise", input, "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Equal($"{input} -> {output}", stdout.Trim());
        WavData written = WavFile.Read(output);
        Assert.Equal((22050, 1, 11025), (written.SampleRate, written.ChannelCount, written.FrameCount));
        Assert.All(written.GetChannel(0), v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>A mask network whose mask is the same everywhere: every weight 0, the last bias <paramref name="bias"/>.</summary>
    private static string ConstantMaskModel(string path, MaskActivation activation, float bias)
    {
        using var network = new FcMaskNetwork(new FcMaskNetworkOptions(HiddenSize: 4, Dropout: 0) { Activation = activation });
        using (TorchSharp.torch.no_grad())
        {
            foreach (var (_, parameter) in network.named_parameters())
            {
                parameter.zero_();
            }

            network.state_dict()["fc3.bias"].fill_(bias);
        }

        DenoisingModels.Save(path, network);
        return path;
    }

    [Theory]
    [InlineData(WavSampleFormat.Pcm16)]
    [InlineData(WavSampleFormat.Float32)]
    public async Task Denoise_MaskAboveOne_WarnsOfSamplesAtFullScale(WavSampleFormat inputFormat)
    {
        using var dir = ScratchFolder.Create("dls-denoise-clip-");
        // A ReLU mask of 20 everywhere makes a 0.3-amplitude tone about 6 times louder than full scale.
        string model = ConstantMaskModel(dir.PathFor("loud.ckpt"), MaskActivation.Relu, 20);
        string input = dir.PathFor("in.wav"), output = dir.PathFor("out.wav");
        WavFile.Write(input, new WavData(Rate, [Enumerable.Range(0, Rate).Select(i => (float)(0.3 * Math.Sin(2 * Math.PI * 440 * i / Rate))).ToArray()], inputFormat));

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", input, "--model", model, "--out", output);

        Assert.True(code == 0, stderr);
        WavData data = WavFile.Read(output);
        float[] written = data.GetChannel(0);
        // DenoiseFile writes 16-bit PCM whatever the input's format; counted independently here: its limits decode to
        // 32767/32768 and −1.
        Assert.Equal(WavSampleFormat.Pcm16, data.SampleFormat);
        long expected = written.Count(v => v >= 32767f / 32768f || v <= -1f);
        Assert.True(expected > written.Length / 2, $"the test needs most samples clipped; {expected} of {written.Length} are");
        Assert.Contains($"{expected} of {written.Length} samples", stderr);
        Assert.Contains("are at full scale", stderr);
    }

    [Fact]
    public async Task Denoise_MaskBelowOne_DoesNotWarn()
    {
        using var dir = ScratchFolder.Create("dls-denoise-noclip-");
        // The control: a sigmoid mask of 0.5 everywhere halves the tone, which stays far from full scale.
        string model = ConstantMaskModel(dir.PathFor("half.ckpt"), MaskActivation.Sigmoid, 0);
        string input = dir.PathFor("in.wav"), output = dir.PathFor("out.wav");
        WavFile.Write(input, new WavData(Rate, [Enumerable.Range(0, Rate).Select(i => (float)(0.3 * Math.Sin(2 * Math.PI * 440 * i / Rate))).ToArray()], WavSampleFormat.Pcm16));

        var (code, _, stderr) = await HostRunner.RunAsync("denoise", input, "--model", model, "--out", output);

        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("full scale", stderr);
        Assert.InRange(WavFile.Read(output).GetChannel(0).Max(Math.Abs), 0.1f, 0.2f);
    }

    [Fact]
    public async Task DenoiseEval_VoiceBankFolder_LeavesTheOracleColumnsEmptyAndOmitsTheirMeans()
    {
        // VoiceBank pairs (clean and noisy only) have no noise file: the oracle masks need the noise, so the per-file
        // oracle cells are empty and the JSON has no oracle means, while the measured figures are all there.
        using var dir = ScratchFolder.Create("dls-denoise-eval-vb-");
        string data = dir.PathFor("data"), outDir = dir.PathFor("out");
        var inputSnr = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < 2; i++)
        {
            var rng = new Random(10 + i);
            float[] clean = Enumerable.Range(0, Rate).Select(k => (float)(0.3 * Math.Sin(2 * Math.PI * (200 + 60 * i) * k / Rate))).ToArray();
            float[] noisy = clean.Select(c => (float)(c + 0.1 * (rng.NextDouble() - 0.5))).ToArray();
            Directory.CreateDirectory(Path.Combine(data, "clean_testset_wav"));
            Directory.CreateDirectory(Path.Combine(data, "noisy_testset_wav"));
            WavFile.Write(Path.Combine(data, "clean_testset_wav", $"p{i}.wav"), new WavData(Rate, [clean], WavSampleFormat.Float32));
            WavFile.Write(Path.Combine(data, "noisy_testset_wav", $"p{i}.wav"), new WavData(Rate, [noisy], WavSampleFormat.Float32));
            inputSnr[$"p{i}.wav"] = 10 * Math.Log10(clean.Sum(v => (double)v * v) / clean.Zip(noisy, (c, x) => (double)c - x).Sum(d => d * d));
        }

        var (code, stdout, stderr) = await HostRunner.RunAsync("denoise-eval", "--data", data, "--out", outDir, "--json");

        Assert.True(code == 0, stderr);
        string[] rows = File.ReadAllLines(Path.Combine(outDir, "denoise-eval.csv"));
        Assert.Equal(3, rows.Length);
        foreach (string row in rows[1..])
        {
            string[] cells = row.Split(',');
            Assert.Equal(9, cells.Length);
            Assert.Equal(inputSnr[cells[0]], double.Parse(cells[1], CultureInfo.InvariantCulture), 6e-4);   // three decimals in the CSV
            Assert.All(cells[2..7], c => Assert.True(double.IsFinite(double.Parse(c, CultureInfo.InvariantCulture)), row));
            Assert.Equal(["", ""], cells[7..]);
        }

        var json = HostRunner.LastJsonLine(stdout);
        Assert.Equal(2, (int)json["files"]!);
        Assert.Equal(inputSnr.Values.Average(), (double)json["input_snr_db"]!, 6e-4);
        Assert.False(json.ContainsKey("oracle_irm_snr_improvement_db"), json.ToJsonString());
        Assert.False(json.ContainsKey("oracle_power_snr_improvement_db"), json.ToJsonString());
    }

    [Fact]
    public async Task DenoiseEval_PairedFolder_WritesPerFileCsvPicturesAndMeans()
    {
        using var dir = ScratchFolder.Create("dls-denoise-eval-");
        string data = Path.Combine(dir.Path, "data"), outDir = Path.Combine(dir.Path, "out");
        var inputSnr = new Dictionary<string, double>();
        for (int i = 0; i < 3; i++)
            inputSnr[$"tex{i:0000}.wav"] = WriteTestPair(data, i);

        var (code, stdout, stderr) = await HostRunner.RunAsync("denoise-eval", "--data", data, "--out", outDir, "--json");

        Assert.True(code == 0, stderr);
        string csvPath = Path.Combine(outDir, "denoise-eval.csv");
        string[] rows = File.ReadAllLines(csvPath);
        Assert.Equal("file,input_snr_db,output_snr_db,snr_improvement_db,input_si_sdr_db,output_si_sdr_db,si_sdr_improvement_db,oracle_irm_snr_db,oracle_power_snr_db", rows[0]);
        Assert.Equal(4, rows.Length);
        var perFile = new List<double>();
        foreach (string row in rows[1..])
        {
            string[] cells = row.Split(',');
            Assert.Equal(9, cells.Length);
            double[] values = cells[1..].Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            // The file's input SNR from its own samples (three decimals in the CSV), and the improvement as output − input.
            Assert.Equal(inputSnr[cells[0]], values[0], 6e-4);
            Assert.Equal(values[1] - values[0], values[2], 2e-3);
            Assert.Equal(values[4] - values[3], values[5], 2e-3);
            Assert.All(values, v => Assert.True(double.IsFinite(v)));   // the oracle columns are filled too
            perFile.Add(values[0]);
        }

        var json = HostRunner.LastJsonLine(stdout);
        Assert.Equal(3, (int)json["files"]!);
        Assert.Equal(inputSnr.Values.Average(), (double)json["input_snr_db"]!, 6e-4);
        Assert.Equal("default (shipped)", (string)json["model"]!);
        Assert.Equal(Path.GetFullPath(csvPath), (string)json["csv"]!);
        // Spectrograms of the first three files: noisy, clean and denoised each.
        foreach (string stem in new[] { "tex0000", "tex0001", "tex0002" })
            foreach (string part in new[] { "noisy", "clean", "denoised" })
                Assert.True(new FileInfo(Path.Combine(outDir, $"{stem}-{part}.png")).Length > 1000, $"{stem}-{part}.png should be a drawn PNG");
    }

    [Fact]
    public async Task DenoiseEval_ModelFile_NamesItAndScoresAsTheSameShippedNetwork()
    {
        using var dir = ScratchFolder.Create("dls-denoise-eval-model-");
        string data = Path.Combine(dir.Path, "data");
        WriteTestPair(data, 0);
        WriteTestPair(data, 1);
        // The shipped network's own checkpoint, given as a file.
        string model = DenoisingModels.ExtractDefault();

        var (shippedCode, shippedOut, shippedErr) = await HostRunner.RunAsync("denoise-eval", "--data", data, "--out", Path.Combine(dir.Path, "a"), "--json");
        var (code, stdout, stderr) = await HostRunner.RunAsync("denoise-eval", "--data", data, "--out", Path.Combine(dir.Path, "b"), "--model", model);

        Assert.True(shippedCode == 0, shippedErr);
        Assert.True(code == 0, stderr);
        // Without --json every figure is one "key value" line.
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))
            .ToDictionary(l => l[..l.IndexOf(' ')], l => l[l.IndexOf(' ')..].Trim());
        Assert.Equal(Path.GetFullPath(model), lines["model"]);
        var shipped = HostRunner.LastJsonLine(shippedOut);
        foreach (string key in new[] { "files", "input_snr_db", "output_snr_db", "snr_improvement_db", "architecture", "parameters" })
            Assert.Equal(shipped[key]!.ToString(), lines[key]);
    }

    /// <summary>Writes the homework-layout test pair <paramref name="index"/> (tex/tes/ten) and returns its input SNR in dB.</summary>
    private static double WriteTestPair(string folder, int index)
    {
        Directory.CreateDirectory(folder);
        var rng = new Random(index);
        float[] clean = Enumerable.Range(0, Rate).Select(i => (float)(0.3 * Math.Sin(2 * Math.PI * (180 + 40 * index) * i / Rate) * (0.6 + 0.4 * Math.Sin(2 * Math.PI * 3 * i / Rate)))).ToArray();
        float[] noise = Enumerable.Range(0, Rate).Select(_ => (float)(0.1 * (rng.NextDouble() - 0.5))).ToArray();
        float[] noisy = clean.Zip(noise, (c, n) => c + n).ToArray();
        WavFile.Write(Path.Combine(folder, $"tex{index:0000}.wav"), new WavData(Rate, [noisy], WavSampleFormat.Float32));
        WavFile.Write(Path.Combine(folder, $"tes{index:0000}.wav"), new WavData(Rate, [clean], WavSampleFormat.Float32));
        WavFile.Write(Path.Combine(folder, $"ten{index:0000}.wav"), new WavData(Rate, [noise], WavSampleFormat.Float32));
        // 10·log10(Σ clean² / Σ (clean − noisy)²), from the float32 samples as stored.
        return 10 * Math.Log10(clean.Sum(v => (double)v * v) / clean.Zip(noisy, (c, x) => (double)c - x).Sum(d => d * d));
    }
}
