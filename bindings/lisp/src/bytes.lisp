;;;; Moving bytes across the boundary: borrowed C views into Lisp values,
;;;; Lisp strings and octets into what the C functions read.

(in-package #:c10k)

(deftype octets () '(simple-array (unsigned-byte 8) (*)))

(defun view-octets (pointer length)
  "A fresh octet vector holding LENGTH bytes at POINTER, copied with memcpy."
  (let ((vector (make-array length :element-type '(unsigned-byte 8))))
    (when (plusp length)
      (cffi:with-pointer-to-vector-data (data vector)
        (memcpy data pointer length)))
    vector))

(defun view-string (pointer length)
  "The LENGTH bytes at POINTER decoded as UTF-8 (invalid sequences become
U+FFFD rather than an error: the bytes come from the network). ASCII, the
usual case for heads, takes a direct path."
  (declare (optimize speed) (type sb-sys:system-area-pointer pointer) (type fixnum length))
  (if (loop for i of-type fixnum below length
            always (< (sb-sys:sap-ref-8 pointer i) 128))
      (let ((string (make-string length)))
        (dotimes (i length string)
          (setf (schar string i) (code-char (sb-sys:sap-ref-8 pointer i)))))
      (let ((babel-encodings:*suppress-character-coding-errors* t))
        (cffi:foreign-string-to-lisp pointer :count length :encoding :utf-8))))

(declaim (inline ascii-string-p))
(defun ascii-string-p (string)
  "True if the simple string STRING holds only ASCII characters."
  (declare (optimize speed) (simple-string string))
  (typecase string
    (simple-base-string t)              ; SBCL's base-chars are ASCII
    ((simple-array character (*))
     (dotimes (i (length string) t)
       (unless (< (char-code (schar string i)) 128) (return nil))))))

(defun view-string-shared (cache index pointer length)
  "VIEW-STRING of the LENGTH bytes at POINTER, or the string slot INDEX of
the simple-vector CACHE holds if it has these very bytes: that slot keeps
the last ASCII string made here. For header values that repeat from
request to request (Host, User-Agent, Accept ...), made once instead of
for every request. Any thread: a slot holds one string at a time."
  (declare (optimize speed) (type simple-vector cache) (type fixnum index length)
           (type sb-sys:system-area-pointer pointer))
  (let ((recent (svref cache index)))
    (if (and recent
             (= (length (the simple-string recent)) length)
             (dotimes (i length t)
               (unless (= (sb-sys:sap-ref-8 pointer i) (char-code (schar recent i)))
                 (return nil))))
        recent
        (let ((string (view-string pointer length)))
          (when (and (simple-string-p string) (ascii-string-p string))
            (setf (svref cache index) string))
          string))))

(defun string-octets (string)
  "STRING encoded as UTF-8."
  (babel:string-to-octets string :encoding :utf-8))

(defun body-octets (body)
  "An octet vector C can read without a further copy: a string is encoded as
UTF-8, a simple octet vector is used as it is, NIL is empty."
  (etypecase body
    (octets body)
    (string (string-octets body))
    (null (load-time-value (make-array 0 :element-type '(unsigned-byte 8)) t))
    (vector (coerce body 'octets))))

(defun header-text (thing)
  "A header name or value as a string: symbols are lowercased (:content-type
gives \"content-type\"), numbers printed."
  (typecase thing
    (string thing)
    (symbol (string-downcase (symbol-name thing)))
    (t (princ-to-string thing))))

(defmacro with-octets ((pointer length) octets &body body)
  "Runs BODY with POINTER to the data of the simple octet vector OCTETS
(pinned, not copied) and LENGTH its length."
  (let ((vector (gensym "OCTETS")))
    `(let ((,vector ,octets))
       (declare (type octets ,vector))
       (cffi:with-pointer-to-vector-data (,pointer ,vector)
         (let ((,length (length ,vector)))
           ,@body)))))

(defun url-decode (string &key plus-as-space)
  "Percent-decodes STRING (with c10k_percent_decode) and reads the result as
UTF-8. With PLUS-AS-SPACE, + becomes a space, as in query strings. Signals
C10K-ERROR for a malformed %XY."
  (let* ((input (string-octets string))
         (output (make-array (length input) :element-type '(unsigned-byte 8))))
    (cffi:with-foreign-object (written :size)
      (with-octets (in length) input
        (cffi:with-pointer-to-vector-data (out output)
          (check (c10k-percent-decode in length plus-as-space out length written)
                 "url-decode")))
      (let ((babel-encodings:*suppress-character-coding-errors* t))
        (babel:octets-to-string output :end (cffi:mem-ref written :size)
                                       :encoding :utf-8)))))
