# frozen_string_literal: true

require "json"
require "time"

# Guestbook keeps entries as JSON lines in one file.
class Guestbook
  def initialize(path)
    @path = path
    @mutex = Mutex.new
  end

  def add(name, message)
    entry = { "name" => name[0, 80], "message" => message[0, 2000], "at" => Time.now.utc.iso8601 }
    @mutex.synchronize do
      File.open(@path, "a") { |f| f.puts(JSON.generate(entry)) }
    end
    entry
  end

  def latest(n)
    return [] unless File.exist?(@path)

    File.readlines(@path, chomp: true).last(n).reverse.map { |l| JSON.parse(l) }
  end

  def count
    File.exist?(@path) ? File.foreach(@path).count : 0
  end
end
