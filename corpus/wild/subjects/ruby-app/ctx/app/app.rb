# frozen_string_literal: true

require "webrick"
require "erb"
require "json"
require_relative "lib/guestbook"

port = Integer(ENV.fetch("PORT", "4567"))
book = Guestbook.new(File.join(Dir.home, "entries.jsonl"))
views = File.join(__dir__, "views")
layout = ERB.new(File.read(File.join(views, "layout.erb")), trim_mode: "-")
index = ERB.new(File.read(File.join(views, "index.erb")), trim_mode: "-")

server = WEBrick::HTTPServer.new(
  Port: port,
  BindAddress: "0.0.0.0",
  AccessLog: [[$stdout, WEBrick::AccessLog::COMBINED_LOG_FORMAT]],
  Logger: WEBrick::Log.new($stderr, WEBrick::Log::INFO)
)

server.mount_proc "/" do |req, res|
  if req.request_method == "POST"
    name = req.query["name"].to_s.strip
    text = req.query["message"].to_s.strip
    book.add(name, text) unless name.empty? || text.empty?
    res.set_redirect(WEBrick::HTTPStatus::SeeOther, "/")
  end
  entries = book.latest(50)
  body = index.result(binding)
  res["Content-Type"] = "text/html; charset=utf-8"
  res.body = layout.result(binding)
end

server.mount_proc "/health" do |_req, res|
  res["Content-Type"] = "application/json"
  res.body = JSON.generate(status: "ok", entries: book.count)
end

%w[INT TERM].each { |sig| trap(sig) { server.shutdown } }
server.start
