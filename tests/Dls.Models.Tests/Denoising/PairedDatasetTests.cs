using Dls.Models.Denoising;

namespace Dls.Models.Tests.Denoising;

public sealed class PairedDatasetTests
{
    [Fact]
    public void List_HomeworkLayout_PairsMixtureCleanAndNoise()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.Path, 3);

        IReadOnlyList<DenoisingPair> pairs = PairedDataset.List(temp.Path);

        Assert.Equal(DenoisingLayout.Homework, PairedDataset.DetectLayout(temp.Path));
        Assert.Equal(["tex0000.wav", "tex0001.wav", "tex0002.wav"], pairs.Select(p => p.Name));
        Assert.All(pairs, p => Assert.EndsWith(p.Name.Replace("tex", "tes"), p.CleanPath));
        Assert.All(pairs, p => Assert.EndsWith(p.Name.Replace("tex", "ten"), p.NoisePath));
    }

    [Fact]
    public void List_HomeworkMixtureWithoutClean_ThrowsNamingTheFile()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.Path, 2, set: "r");
        File.Delete(temp.File("trs0001.wav"));

        var e = Assert.Throws<InvalidDataException>(() => PairedDataset.List(temp.Path));

        Assert.Contains("trx0001.wav has no clean file trs0001.wav", e.Message);
    }

    [Fact]
    public void List_VoiceBankLayout_PairsByFileName()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.File("src"), 2);
        Directory.CreateDirectory(temp.File("clean_testset_wav"));
        Directory.CreateDirectory(temp.File("noisy_testset_wav"));
        File.Copy(temp.File("src/tes0000.wav"), temp.File("clean_testset_wav/p232_001.wav"));
        File.Copy(temp.File("src/tex0000.wav"), temp.File("noisy_testset_wav/p232_001.wav"));
        Directory.Delete(temp.File("src"), true);

        IReadOnlyList<DenoisingPair> pairs = PairedDataset.List(temp.Path);

        DenoisingPair pair = Assert.Single(pairs);
        Assert.Equal("p232_001.wav", pair.Name);
        Assert.Null(pair.NoisePath);
        Assert.Contains("clean_testset_wav", pair.CleanPath);
    }

    [Fact]
    public void List_VoiceBankCleanWithoutNoisy_ThrowsNamingTheFile()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.File("src"), 1);
        Directory.CreateDirectory(temp.File("clean_a"));
        Directory.CreateDirectory(temp.File("noisy_a"));
        File.Copy(temp.File("src/tes0000.wav"), temp.File("clean_a/x.wav"));
        File.Copy(temp.File("src/tex0000.wav"), temp.File("noisy_a/y.wav"));
        Directory.Delete(temp.File("src"), true);

        var e = Assert.Throws<InvalidDataException>(() => PairedDataset.List(temp.Path));

        Assert.Contains("noisy_a/y.wav has no clean_a/y.wav", e.Message);
        Assert.Contains("clean_a/x.wav has no noisy_a/x.wav", e.Message);
    }

    [Fact]
    public void DetectLayout_FolderWithNeither_ThrowsDescribingWhatWasFound()
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("other"));

        var e = Assert.Throws<InvalidDataException>(() => PairedDataset.DetectLayout(temp.Path));

        Assert.Contains("found 0 WAV files and sub-folders [other]", e.Message);
    }

    [Fact]
    public void DetectLayout_MissingFolder_ThrowsDirectoryNotFound()
    {
        Assert.Throws<DirectoryNotFoundException>(() => PairedDataset.DetectLayout(Path.Combine(Path.GetTempPath(), "dls-no-such-folder-" + Guid.NewGuid())));
    }

    [Fact]
    public void LoadAll_HomeworkFolder_ReadsEqualLengthExamples()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.Path, 2);

        IReadOnlyList<DenoisingExample> examples = DenoisingExample.LoadAll(temp.Path, DenoisingFixtures.Rate);

        Assert.Equal(2, examples.Count);
        Assert.All(examples, e => Assert.Equal(e.Noisy.Length, e.Clean.Length));
        // PCM16 storage rounds each file separately, so mixture = clean + noise holds to two quantisation steps.
        Assert.All(examples, e => Assert.True(DenoisingFixtures.MaxAbsDifference(e.Noisy, DenoisingFixtures.Add(e.Clean, e.Noise!)) <= 2.0f / 32768));
    }

    [Fact]
    public void DetectLayout_VoiceBankRootWithTwoSplits_ThrowsNamingFolders()
    {
        using var temp = new TempFolder();
        foreach (string folder in new[] { "clean_testset_wav", "noisy_testset_wav", "clean_trainset_28spk_wav", "noisy_trainset_28spk_wav" })
        {
            Directory.CreateDirectory(temp.File(folder));
        }

        var e = Assert.Throws<InvalidDataException>(() => PairedDataset.DetectLayout(temp.Path));
        Assert.Throws<InvalidDataException>(() => PairedDataset.List(temp.Path, DenoisingLayout.VoiceBank));

        Assert.Contains("has 2 clean* and 2 noisy* sub-folders [clean_testset_wav, clean_trainset_28spk_wav, noisy_testset_wav, noisy_trainset_28spk_wav]", e.Message);
        Assert.Contains("Pass the folder of one split", e.Message);
    }

    [Fact]
    public void Load_NaNSampleInCleanFile_ThrowsNamingFileAndIndex()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.Path, 1);
        float[] clean = DenoisingFixtures.Tone(12000, 10);
        clean[345] = float.NaN;
        // Float32 WAV stores the NaN as it is (PCM would turn it into silence).
        Dls.Audio.IO.AudioFile.Save(temp.File("tes0000.wav"), new Dls.Audio.AudioSignal(clean, DenoisingFixtures.Rate), Dls.Audio.IO.WavSampleFormat.Float32);
        DenoisingPair pair = Assert.Single(PairedDataset.List(temp.Path));

        var e = Assert.Throws<InvalidDataException>(() => DenoisingExample.Load(pair, DenoisingFixtures.Rate));

        Assert.Contains("tes0000.wav' has a non-finite sample (NaN) at index 345", e.Message);
    }

    [Fact]
    public void List_UndefinedLayout_ThrowsNamingIt()
    {
        using var temp = new TempFolder();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PairedDataset.List(temp.Path, (DenoisingLayout)5));

        Assert.Equal("layout", e.ParamName);
        Assert.Equal((DenoisingLayout)5, e.ActualValue);
        Assert.Contains("Expected Homework or VoiceBank", e.Message);
    }

    [Fact]
    public void List_VoiceBankAskedOfAFolderWithoutIt_ThrowsNamingTheSubFolders()
    {
        using var temp = new TempFolder();
        DenoisingFixtures.WriteHomework(temp.File("homework"), 1);
        Directory.CreateDirectory(temp.File("clean_only"));

        var e = Assert.Throws<InvalidDataException>(() => PairedDataset.List(temp.Path, DenoisingLayout.VoiceBank));

        Assert.Contains($"'{temp.Path}' has no VoiceBank layout: expected one sub-folder named clean* and one named noisy*, found [clean_only, homework]", e.Message);
    }

    [Theory]
    [InlineData(DenoisingLayout.Homework, "homework")]
    [InlineData(DenoisingLayout.VoiceBank, "VoiceBank")]
    public void List_LayoutWithoutAnyPair_ThrowsSayingNoneFound(DenoisingLayout layout, string name)
    {
        using var temp = new TempFolder();
        Directory.CreateDirectory(temp.File("clean_testset_wav"));
        Directory.CreateDirectory(temp.File("noisy_testset_wav"));

        var e = Assert.Throws<InvalidDataException>(() => PairedDataset.List(temp.Path, layout));

        Assert.Contains($"'{temp.Path}' ({name} layout) has no noisy/clean pairs (expected at least 1, found 0)", e.Message);
    }
}
