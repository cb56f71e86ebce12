using Dls.Audio.IO;
using Dls.Speaker.Data;
using Dls.Speaker.Features;
using Dls.Speaker.Tests.Data;
using Dls.Speaker.Training;

namespace Dls.Speaker.Tests.Features;

public sealed class SpeakerFeatureSetTests
{
    [Fact]
    public void Load_NaNInFloatWav_InvalidDataNamingFileAndSampleIndex()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 2, utterances: 2, seconds: 0.5);
        // An 8 kHz float file: the index is the file's own sample, not one of the 16 kHz resampled signal.
        string path = Path.Combine(tree.Root, "speakers", "spk1", "spk1_000.wav");
        var samples = TestAudio.Voice(150, 1, 0.5, seed: 1)[..4000];
        samples[1234] = float.NaN;
        WavFile.Write(path, new WavData(8000, [samples], WavSampleFormat.Float32));
        using var extractor = new SpeakerFeatureExtractor();

        var ex = Assert.Throws<InvalidDataException>(() => SpeakerFeatureSet.Load(SpeakerDataset.Open(tree.Root), extractor));

        Assert.Contains($"'{path}': expected finite samples, found NaN at sample 1234 of 4000", ex.Message);
    }

    [Fact]
    public void Statistics_EmptySet_InvalidOperationWithCounts()
    {
        using var tree = new TempTree();
        using var extractor = new SpeakerFeatureExtractor();
        using var empty = SpeakerFeatureSet.Load(new SpeakerDataset(tree.Root, []), extractor);

        var ex = Assert.Throws<InvalidOperationException>(() => empty.Statistics());

        Assert.Contains("need at least 1 utterance and 2 frames; this set holds 0 utterances and 0 frames", ex.Message);
    }

    [Fact]
    public void TrainingProblem_EmptyTrainingSet_ArgumentExceptionNotTorchError()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 2, utterances: 2, seconds: 0.5);
        using var extractor = new SpeakerFeatureExtractor();
        using var empty = SpeakerFeatureSet.Load(new SpeakerDataset(tree.Root, []), extractor);
        using var validation = SpeakerFeatureSet.Load(SpeakerDataset.Open(tree.Root), extractor);

        var ex = Assert.Throws<ArgumentException>(() => new SpeakerTrainingProblem(empty, validation));

        Assert.Equal("train", ex.ParamName);
        Assert.Contains("Training needs at least 2 speakers; the training feature set has 0 (0 utterances)", ex.Message);
    }

    [Fact]
    public void Load_FileShorterThanOneFrame_InvalidDataNamingFileAndLength()
    {
        using var tree = new TempTree();
        TestModels.WriteDataset(tree.Root, speakers: 2, utterances: 2, seconds: 0.5);
        // 400 samples at 16 kHz: the centred STFT (n_fft 1024) needs more than 512 for a frame that is not mostly padding.
        string path = Path.Combine(tree.Root, "speakers", "spk1", "spk1_001.wav");
        WavFile.Write(path, new WavData(TestAudio.Rate, [TestAudio.Voice(150, 1, 0.025, seed: 2)], WavSampleFormat.Float32));
        using var extractor = new SpeakerFeatureExtractor();

        var ex = Assert.Throws<InvalidDataException>(() => SpeakerFeatureSet.Load(SpeakerDataset.Open(tree.Root), extractor));

        Assert.Equal($"'{path}': expected more than 512 samples for one STFT frame (n_fft 1024), found 400.", ex.Message);
    }
}
