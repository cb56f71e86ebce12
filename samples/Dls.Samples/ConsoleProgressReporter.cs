using System.Diagnostics;
using Dls.Samples.Abstractions;
using Spectre.Console;

namespace Dls.Samples;

/// <summary>
/// Progress for long work: live Spectre.Console bars on a terminal, and plain periodic lines when output is
/// redirected (CI logs, pipes), so logs stay readable and the last stdout line stays free for JSON.
/// </summary>
internal sealed class ConsoleProgressReporter : IProgressReporter
{
    private readonly TextWriter _plain;
    private readonly TimeSpan _interval;

    public ConsoleProgressReporter(TextWriter plainOutput, TimeSpan interval)
    {
        _plain = plainOutput;
        _interval = interval;
    }

    /// <summary>The live display while a command runs inside one, else <see langword="null"/> (plain lines).</summary>
    public ProgressContext? Live { get; set; }

    public IProgressTask Start(string description, long total)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        total = Math.Max(1, total);
        return Live is { } live ? new LiveTask(live.AddTask(Markup.Escape(description), maxValue: total)) : new PlainTask(_plain, description, total, _interval);
    }

    private sealed class LiveTask(ProgressTask task) : IProgressTask
    {
        private readonly string _description = task.Description;

        public void Report(long completed, string? status = null)
        {
            task.Value = completed;
            if (status is not null)
            {
                task.Description = $"{_description} [grey]{Markup.Escape(status)}[/]";
            }
        }

        public void Increment(long by = 1) => task.Increment(by);

        public void Dispose()
        {
            // Stopped where it got to: a bar that jumped to 100 % would show a failed or cancelled step as finished.
            task.StopTask();
        }
    }

    private sealed class PlainTask(TextWriter output, string description, long total, TimeSpan interval) : IProgressTask
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly object _gate = new();
        private TimeSpan _lastPrint = TimeSpan.Zero;
        private long _completed;
        private string? _status;
        private bool _disposed;

        public void Report(long completed, string? status = null)
        {
            lock (_gate)
            {
                _completed = completed;
                _status = status ?? _status;
                MaybePrint();
            }
        }

        public void Increment(long by = 1)
        {
            lock (_gate)
            {
                _completed += by;
                MaybePrint();
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                // "done" only when every step was counted; a step that failed or was cancelled (or ended early, as
                // early stopping does) says where it ended instead of claiming completion.
                string end = _completed >= total
                    ? $"done in {_clock.Elapsed.TotalSeconds:F1} s"
                    : $"ended at {_completed}/{total} after {_clock.Elapsed.TotalSeconds:F1} s";
                output.WriteLine($"[{description}] {end}{(_status is null ? "" : " — " + _status)}");
            }
        }

        private void MaybePrint()
        {
            TimeSpan now = _clock.Elapsed;
            if (now - _lastPrint < interval)
            {
                return;
            }

            _lastPrint = now;
            double percent = 100.0 * Math.Min(_completed, total) / total;
            output.WriteLine($"[{description}] {percent:F0}% ({_completed}/{total}, {now.TotalSeconds:F0} s){(_status is null ? "" : " " + _status)}");
        }
    }
}
