using Dls.Audio.IO;
using Dls.Samples.Abstractions;

namespace Dls.Samples.Tests;

/// <summary>
/// How <c>run denoise-train --data</c> reads a data folder (DenoisingData): folders it cannot train from are refused
/// before any training, with one error line that names the folder or file and says what was expected and found.
/// </summary>
[Collection("TorchGlobalState")]
public sealed class DenoisingDataTests
{
    private const int Rate = 16000;

    [Fact]
    public async Task Load_SinglePairedFolderOfOnePair_FailsNeedingTwo()
    {
        using var dir = ScratchFolder.Create("dls-denoise-data-");
        string data = Path.Combine(dir.Path, "data");
        WriteHomeworkPair(data, "r", 0, withNoise: true);

        var (code, stderr) = await TrainOn(data, dir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{data}' has 1 pair(s); a single paired folder needs at least 2 to split into training and validation.", stderr);
    }

    [Fact]
    public async Task Load_PairedFolderWithoutNoiseFiles_FailsSayingItCannotBeRemixed()
    {
        // A VoiceBank-layout folder: noisy and clean files, but no separate noise to mix anew.
        using var dir = ScratchFolder.Create("dls-denoise-data-");
        string data = Path.Combine(dir.Path, "data");
        for (int i = 0; i < 3; i++)
        {
            var (clean, noise) = CleanAndNoise(seed: i);
            Save(Path.Combine(data, "clean_trainset", $"p{i}.wav"), clean);
            Save(Path.Combine(data, "noisy_trainset", $"p{i}.wav"), clean.Zip(noise, (c, n) => c + n).ToArray());
        }

        var (code, stderr) = await TrainOn(data, dir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{data}' pairs have no separate noise files, so they cannot be re-mixed; expected a noise file beside each mixture (trn*.wav or ten*.wav in the homework layout; a VoiceBank folder has none), or clean/ + noise/ folders.", stderr);
    }

    [Fact]
    public async Task Load_CleanFolderWithoutWavFiles_FailsNamingIt()
    {
        using var dir = ScratchFolder.Create("dls-denoise-data-");
        string data = Path.Combine(dir.Path, "data"), clean = Path.Combine(data, "clean");
        Directory.CreateDirectory(clean);
        File.WriteAllText(Path.Combine(clean, "notes.txt"), "no audio here");
        Save(Path.Combine(data, "noise", "hum.wav"), CleanAndNoise(seed: 1).Noise);

        var (code, stderr) = await TrainOn(data, dir);

        Assert.Equal(1, code);
        Assert.Contains($"error: The clean folder '{clean}' holds no .wav files (expected at least 1).", stderr);
    }

    [Fact]
    public async Task Load_CorpusWithTrainCsvLackingSpeakerColumn_FailsNamingFileAndColumns()
    {
        using var dir = ScratchFolder.Create("dls-denoise-data-");
        string data = WriteCorpus(dir.Path);
        string csv = Path.Combine(data, "train.csv");
        File.WriteAllText(csv, "mixture,speaker\ntrx0000.wav,a\ntrx0001.wav,b\n");

        var (code, stderr) = await TrainOn(data, dir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{csv}' lacks column 'speaker_id'; found [mixture, speaker].", stderr);
    }

    [Fact]
    public async Task Load_CorpusWithTestCsvLackingNoiseType_FailsNamingFileAndColumns()
    {
        // No train.csv (validation is then the last tenth of train/ by name); test.csv names the noise types, or should.
        using var dir = ScratchFolder.Create("dls-denoise-data-");
        string data = WriteCorpus(dir.Path);
        string csv = Path.Combine(data, "test.csv");
        File.WriteAllText(csv, "mixture,type\ntex0000.wav,hum\n");

        var (code, stderr) = await TrainOn(data, dir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{csv}' lacks column 'noise_type'; found [mixture, type].", stderr);
    }

    [Fact]
    public async Task Load_CorpusWithEmptyTrainCsv_FailsNamingTheMissingKeyColumn()
    {
        // An empty train.csv has no header at all: the first column looked for is the one named missing.
        using var dir = ScratchFolder.Create("dls-denoise-data-");
        string data = WriteCorpus(dir.Path);
        string csv = Path.Combine(data, "train.csv");
        File.WriteAllText(csv, "");

        var (code, stderr) = await TrainOn(data, dir);

        Assert.Equal(1, code);
        Assert.Contains($"error: '{csv}' lacks column 'mixture'; found [].", stderr);
    }

    /// <summary>Runs the quick denoise-train on <paramref name="data"/>, results under <paramref name="dir"/>.</summary>
    private static async Task<(int Code, string Stderr)> TrainOn(string data, ScratchFolder dir)
    {
        var (code, _, stderr) = await HostRunner.RunAsync("run", "denoise-train", "--quick", "--data", data, "--out", Path.Combine(dir.Path, "results"));
        return (code, stderr);
    }

    /// <summary>The corpus layout: train/ (3 homework pairs with noise) and test/ (1 pair); returns the folder.</summary>
    private static string WriteCorpus(string parent)
    {
        string data = Path.Combine(parent, "denoise");
        for (int i = 0; i < 3; i++)
            WriteHomeworkPair(Path.Combine(data, "train"), "r", i, withNoise: true);
        WriteHomeworkPair(Path.Combine(data, "test"), "e", 0, withNoise: true);
        return data;
    }

    /// <summary>t{set}x/t{set}s/t{set}n{index}.wav: mixture, clean and (optionally) noise of one pair.</summary>
    private static void WriteHomeworkPair(string folder, string set, int index, bool withNoise)
    {
        var (clean, noise) = CleanAndNoise(seed: index);
        Save(Path.Combine(folder, $"t{set}x{index:0000}.wav"), clean.Zip(noise, (c, n) => c + n).ToArray());
        Save(Path.Combine(folder, $"t{set}s{index:0000}.wav"), clean);
        if (withNoise)
            Save(Path.Combine(folder, $"t{set}n{index:0000}.wav"), noise);
    }

    /// <summary>Half a second of a tone and of deterministic noise.</summary>
    private static (float[] Clean, float[] Noise) CleanAndNoise(int seed)
    {
        var rng = new Random(seed);
        float[] clean = Enumerable.Range(0, Rate / 2).Select(i => (float)(0.3 * Math.Sin(2 * Math.PI * (200 + 50 * seed) * i / Rate))).ToArray();
        float[] noise = Enumerable.Range(0, Rate / 2).Select(_ => (float)(0.05 * (rng.NextDouble() - 0.5))).ToArray();
        return (clean, noise);
    }

    private static void Save(string path, float[] samples)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        WavFile.Write(path, new WavData(Rate, [samples], WavSampleFormat.Float32));
    }
}
