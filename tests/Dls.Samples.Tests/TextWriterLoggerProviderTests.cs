using Microsoft.Extensions.Logging;

namespace Dls.Samples.Tests;

public sealed class TextWriterLoggerProviderTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 5, 12, 34, 56, TimeSpan.Zero);

    [Fact]
    public void Log_Information_WritesOneStampedLineWithLevelAndCategory()
    {
        var writer = new StringWriter();
        using var provider = new TextWriterLoggerProvider(writer, () => Noon);

        provider.CreateLogger("denoise-train").LogInformation("epoch {Epoch} of {Epochs}", 3, 40);

        Assert.Equal("12:34:56 info: denoise-train epoch 3 of 40" + Environment.NewLine, writer.ToString());
    }

    [Fact]
    public void Log_WithException_WritesTheExceptionAfterTheLine()
    {
        var writer = new StringWriter();
        using var provider = new TextWriterLoggerProvider(writer, () => Noon);

        provider.CreateLogger("speaker-train").LogWarning(new InvalidDataException("truncated checkpoint"), "skipped a file");

        string[] lines = writer.ToString().Split(Environment.NewLine);
        Assert.Equal("12:34:56 warn: speaker-train skipped a file", lines[0]);
        Assert.Equal("System.IO.InvalidDataException: truncated checkpoint", lines[1]);
    }

    [Theory]
    [InlineData(LogLevel.Trace, "trce")]
    [InlineData(LogLevel.Debug, "dbug")]
    [InlineData(LogLevel.Information, "info")]
    [InlineData(LogLevel.Warning, "warn")]
    [InlineData(LogLevel.Error, "fail")]
    [InlineData(LogLevel.Critical, "crit")]
    public void LevelName_EveryLevel_IsTheConsoleLoggersShortName(LogLevel level, string expected)
        => Assert.Equal(expected, TextWriterLoggerProvider.LevelName(level));

    [Fact]
    public void LevelName_None_IsRefusedNamingTheLevel()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TextWriterLoggerProvider.LevelName(LogLevel.None));

        Assert.Equal("level", e.ParamName);
        Assert.Contains("found None", e.Message);
    }

    [Fact]
    public void Log_LevelNoneOrEmptyMessage_WritesNothing()
    {
        var writer = new StringWriter();
        using var provider = new TextWriterLoggerProvider(writer, () => Noon);
        ILogger logger = provider.CreateLogger("x");

        logger.Log(LogLevel.None, "not written");
        logger.LogInformation(string.Empty);

        Assert.False(logger.IsEnabled(LogLevel.None));
        Assert.Equal(string.Empty, writer.ToString());
    }

    [Fact]
    public void HostLoggerFactory_NotVerbose_WritesInformationToTheErrorWriterOnlyAndDropsDebug()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using (var host = new SampleHost([], output, error, verbose: false))
        {
            ILogger logger = host.LoggerFactory.CreateLogger("mnist-baseline");
            logger.LogDebug("a debug line");
            logger.LogInformation("best epoch {Epoch}", 7);
        }

        Assert.Equal(string.Empty, output.ToString());
        string log = error.ToString();
        Assert.Contains(" info: mnist-baseline best epoch 7", log);
        Assert.DoesNotContain("a debug line", log);
    }

    [Fact]
    public void HostLoggerFactory_Verbose_WritesDebugLines()
    {
        var error = new StringWriter();
        using (var host = new SampleHost([], TextWriter.Null, error, verbose: true))
        {
            host.LoggerFactory.CreateLogger("bench.audio").LogDebug("warm-up {Pass}", 2);
        }

        Assert.Contains(" dbug: bench.audio warm-up 2", error.ToString());
    }

    [Fact]
    public void Constructor_NullWriter_IsRefused()
        => Assert.Equal("writer", Assert.Throws<ArgumentNullException>(() => new TextWriterLoggerProvider(null!)).ParamName);
}
