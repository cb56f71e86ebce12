using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Dls.Samples;

/// <summary>
/// Logs one line per entry to the host's error writer (<c>HH:mm:ss level: category message</c>), so that logs go where
/// <see cref="DlsSamplesApp.RunAsync"/> was told to send them. The console logger wrote to the process's standard error
/// whatever writer the host was given, and from a queue on its own thread, so a caller that captured the error writer
/// (a test, or an application embedding the host) saw no logs, and those it did see came late.
/// </summary>
internal sealed class TextWriterLoggerProvider : ILoggerProvider
{
    private readonly TextWriter _writer;
    private readonly Func<DateTimeOffset> _clock;
    private readonly Lock _gate = new();

    /// <summary>Creates the provider.</summary>
    /// <param name="writer">Where the lines go.</param>
    /// <param name="clock">The time stamped on each line (the local time unless a test fixes it).</param>
    public TextWriterLoggerProvider(TextWriter writer, Func<DateTimeOffset>? clock = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _clock = clock ?? (() => DateTimeOffset.Now);
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
        // The writer belongs to the caller; every line was flushed when written.
    }

    /// <summary>The short level names the console logger uses, so log lines read as before.</summary>
    internal static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => throw new ArgumentOutOfRangeException(nameof(level), level, $"Expected a level from Trace to Critical; found {level}."),
    };

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        string stamp = _clock().ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        string line = $"{stamp} {LevelName(level)}: {category} {message}";
        lock (_gate)
        {
            _writer.WriteLine(line);
            if (exception is not null)
            {
                _writer.WriteLine(exception.ToString());
            }

            _writer.Flush();
        }
    }

    private sealed class Logger(TextWriterLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // The minimum level is the factory's (SetMinimumLevel and filters decide before an entry reaches here).
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            ArgumentNullException.ThrowIfNull(formatter);
            string message = formatter(state, exception);
            if (message.Length == 0 && exception is null)
            {
                return;
            }

            provider.Write(logLevel, category, message, exception);
        }
    }
}
